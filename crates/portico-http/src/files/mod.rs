//! Files from disk: [`FileResponse`] (one file, with validators, conditional requests and
//! ranges) and [`StaticFiles`] (a directory mounted at a prefix, with no way out of it).

mod response;
mod static_dir;

pub use response::FileResponse;
pub use static_dir::StaticFiles;

// An async handler's future moves between threads.
use std::rc::Rc;

#[portico::handler]
async fn read() -> &'static str {
    let shared = Rc::new(1);
    std::future::ready(()).await;
    drop(shared);
    "read"
}

fn main() {
    let _ = portico::App::new().get("/", read);
}

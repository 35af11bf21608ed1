// A provider returns a `Result`, even for a value that cannot fail.
struct Settings;

#[portico::provider]
fn settings() -> Settings {
    Settings
}

fn main() {
    let _ = portico::App::new().provide(settings);
}

// Without the attribute, the error is at `provide` and says what a provider is.
struct Settings;

fn settings() -> Settings {
    Settings
}

fn main() {
    let _ = portico::App::new().provide(settings);
}

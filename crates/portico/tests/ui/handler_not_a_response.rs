// The return type must be a response.
struct Item;

#[portico::handler]
async fn read() -> Item {
    Item
}

fn main() {
    let _ = portico::App::new().get("/", read);
}

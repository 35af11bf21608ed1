// A plain type is not an extractor: the error names the parameter.
use portico::Json;

#[portico::handler]
async fn update_item(item_id: u32, Json(price): Json<f64>) -> &'static str {
    let _ = (item_id, price);
    "updated"
}

fn main() {
    let _ = portico::App::new().put("/items/{item_id}", update_item);
}

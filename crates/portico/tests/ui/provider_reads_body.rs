// A provider reads the request's head only.
use portico::{HttpError, Json};

struct Order(u32);

#[portico::provider]
async fn order(Json(id): Json<u32>) -> Result<Order, HttpError> {
    Ok(Order(id))
}

fn main() {
    let _ = portico::App::new().provide(order);
}

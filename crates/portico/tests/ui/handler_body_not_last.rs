// Only the last parameter may read the body.
use portico::{Json, Path};

#[portico::handler]
async fn update(Json(count): Json<u32>, Path(id): Path<u32>) -> &'static str {
    let _ = (count, id);
    "updated"
}

fn main() {
    let _ = portico::App::new().put("/items/{id}", update);
}

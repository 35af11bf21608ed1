//! Changing the status code: `docs_src/response_change_status_code/tutorial001`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Json, State};
use serde_json::{Value, json};

/// FastAPI's module-level `tasks` dict, shared by the application's requests.
#[derive(Clone)]
struct Tasks(Arc<Mutex<HashMap<String, String>>>);

/// FastAPI sets `response.status_code` on the `Response` parameter: a Portico handler returns
/// the status with its content.
#[portico::handler]
fn get_or_create_task(
    #[path] task_id: String,
    State(tasks): State<Tasks>,
) -> (StatusCode, Json<String>) {
    let mut tasks = tasks.0.lock().unwrap();
    let mut status = StatusCode::OK;
    if !tasks.contains_key(&task_id) {
        tasks.insert(task_id.clone(), "This didn't exist before".to_owned());
        status = StatusCode::CREATED;
    }
    (status, Json(tasks[&task_id].clone()))
}

fn app() -> App {
    let tasks = HashMap::from([("foo".to_owned(), "Listen to the Bar Fighters".to_owned())]);
    App::new()
        .state(Tasks(Arc::new(Mutex::new(tasks))))
        .put("/get-or-create-task/{task_id}", get_or_create_task)
}

#[portico::test]
async fn path_operation() {
    let client = TestClient::new(app());
    let response = client.put("/get-or-create-task/foo").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!("Listen to the Bar Fighters")
    );
    let response = client.put("/get-or-create-task/bar").await;
    assert_eq!(response.status(), 201, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!("This didn't exist before"));
}

//! The chat room: a page from a template, its static files, and a WebSocket per visitor; every
//! message reaches everyone through memory object streams.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use portico::prelude::*;
use portico::tasks::{MemoryReceiver, MemorySender, TrySendError, memory_stream};
use portico::websocket::{WebSocket, WebSocketError};
use portico::{StaticFiles, TemplateResponse, Templates};
use serde_json::json;

/// The longest message the room passes on, in characters.
pub(crate) const MAX_LENGTH: usize = 1000;

/// How many messages wait for a visitor who reads slowly before the oldest are dropped for
/// them.
const BACKLOG: usize = 256;

/// The room: where messages are said, and everyone's own stream to hear them on.
#[derive(Clone)]
pub(crate) struct Room {
    /// Every visitor's WebSocket says into this one stream...
    say: MemorySender<Arc<str>>,
    /// ...and the room's one task passes each message to every visitor's stream.
    members: Arc<Mutex<Vec<MemorySender<Arc<str>>>>>,
}

impl Room {
    /// A room and the task that runs it (started by the lifespan).
    fn new() -> (Room, impl Future<Output = ()> + Send + 'static) {
        let (say, heard) = memory_stream(BACKLOG);
        let room = Room {
            say,
            members: Arc::default(),
        };
        let members = room.members.clone();
        (room, broadcast(heard, members))
    }

    /// A new visitor's stream of everything said from now on.
    fn join(&self) -> MemoryReceiver<Arc<str>> {
        let (sender, receiver) = memory_stream(BACKLOG);
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sender);
        receiver
    }

    async fn say(&self, text: impl Into<Arc<str>>) {
        // Fails only once the room has closed, at shutdown.
        let _ = self.say.send(text.into()).await;
    }

    fn size(&self) -> usize {
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Passes every message said to every visitor, forgetting those who left.
async fn broadcast(
    mut heard: MemoryReceiver<Arc<str>>,
    members: Arc<Mutex<Vec<MemorySender<Arc<str>>>>>,
) {
    while let Ok(message) = heard.recv().await {
        let mut members = members.lock().unwrap_or_else(PoisonError::into_inner);
        members.retain(|member| match member.try_send(message.clone()) {
            Ok(()) => true,
            // A visitor this far behind misses this message, and stays.
            Err(TrySendError::WouldBlock(_)) => true,
            Err(_) => false,
        });
    }
}

/// The chat page.
#[portico::handler]
async fn index(templates: Templates) -> TemplateResponse {
    templates
        .response(
            "index.html",
            json!({
                "title": "Portico chat",
                "default_name": "guest",
                "max_length": MAX_LENGTH,
            }),
        )
        .await
}

/// One visitor: what they send is said to the room; what the room hears is sent to them.
#[portico::handler]
async fn chat(ws: WebSocket, State(room): State<Room>) -> Result<(), WebSocketError> {
    ws.accept().await?;
    let mut heard = room.join();
    room.say(format!("* someone joined ({} here)", room.size()))
        .await;
    let (sender, receiver) = ws.split();
    let listen = async {
        while let Ok(text) = receiver.receive_text().await {
            let text: String = text.chars().take(MAX_LENGTH).collect();
            room.say(text).await;
        }
    };
    let tell = async {
        while let Ok(message) = heard.recv().await {
            if sender.send_text(&*message).await.is_err() {
                break;
            }
        }
    };
    // Whichever ends first (the visitor left, or the room closed) ends the visit.
    futures_lite::future::or(listen, tell).await;
    drop(heard);
    room.say(format!(
        "* someone left ({} here)",
        room.size().saturating_sub(1)
    ))
    .await;
    Ok(())
}

/// Where the example's templates and static files are, wherever it is run from.
pub(crate) fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("chat")
}

/// The chat application, serving the templates and static files under `dir`.
pub(crate) fn app(dir: &Path) -> App {
    App::new()
        .title("Portico chat")
        .lifespan(|life: Lifespan| async move {
            let (room, run) = Room::new();
            life.state(room);
            life.spawn(run);
            life.serve().await;
            Ok::<(), std::convert::Infallible>(())
        })
        .state(Templates::new(dir.join("templates")))
        .get("/", index)
        .websocket("/ws", chat)
        .mount_as("/static", "static", StaticFiles::new(dir.join("static")))
}

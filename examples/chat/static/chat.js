// The chat page: one WebSocket to the room; every message anyone sends comes back to everyone.
(function () {
    "use strict";
    const messages = document.getElementById("messages");
    const status = document.getElementById("status");
    const form = document.getElementById("send");
    const name = document.getElementById("name");
    const text = document.getElementById("text");
    let socket = null;
    let retry = 500;

    function show(line, kind) {
        const item = document.createElement("li");
        item.textContent = line;
        if (kind) {
            item.className = kind;
        }
        messages.appendChild(item);
        messages.scrollTop = messages.scrollHeight;
    }

    function connect() {
        const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
        socket = new WebSocket(scheme + window.location.host + window.CHAT_SOCKET);
        socket.addEventListener("open", function () {
            status.textContent = "connected";
            retry = 500;
        });
        socket.addEventListener("message", function (event) {
            show(event.data);
        });
        socket.addEventListener("close", function (event) {
            status.textContent = "disconnected (" + event.code + "), reconnecting…";
            setTimeout(connect, retry);
            retry = Math.min(retry * 2, 10000);
        });
    }

    form.addEventListener("submit", function (event) {
        event.preventDefault();
        const line = text.value.trim();
        if (!line || !socket || socket.readyState !== WebSocket.OPEN) {
            return;
        }
        socket.send((name.value.trim() || "anonymous") + ": " + line);
        text.value = "";
        text.focus();
    });

    connect();
}());

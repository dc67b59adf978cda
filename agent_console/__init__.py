"""The agent desktop and supervisor board: pages, HTTP/WS API, auth and roles."""

"""Web chat channel: the widget page and the customer chat websocket."""

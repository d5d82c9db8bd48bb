"""The protector-api WSGI application."""

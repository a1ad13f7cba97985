"""The portal: server-rendered pages in Japanese and English, calling the services' public APIs."""

"""The council's portal: server-rendered pages (GOV.UK Design System) over the services' public APIs.

It holds no business data: each page calls the services as the signed-in person, with a short-lived token
it signs for them (`tokens.py`), through one small client (`client.py`).  See `app.py`."""

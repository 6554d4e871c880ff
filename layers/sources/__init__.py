"""Remote OGC sources: registering a remote WMS, WFS or OGC API – Features service, reading its capabilities
through one guarded HTTP client (http.py), and choosing which of its layers to use. Harvesting, cascading
and metadata build on this later."""

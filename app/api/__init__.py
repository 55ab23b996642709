"""The HTTP edge: the app and its lifespan, dependencies, error map, middleware and one router per resource."""

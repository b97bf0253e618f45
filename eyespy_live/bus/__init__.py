"""The event stream: ZeroMQ publisher and subscriber (`pubsub`), CURVE keys (`curve`), face
thumbnails attached to shot events (`thumbnails`). The event contract is `eyespy_live.events`.
"""

from eyespy_live.bus.pubsub import Publisher, Subscriber

__all__ = ["Publisher", "Subscriber"]

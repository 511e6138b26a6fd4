from lakehouse.assets.dimensions import customer_dim
from lakehouse.assets.events import event_stream
from lakehouse.assets.features import customer_features
from lakehouse.assets.partitions import daily_partitions

ALL_ASSETS = [event_stream, customer_dim, customer_features]

__all__ = ["ALL_ASSETS", "customer_dim", "customer_features", "daily_partitions", "event_stream"]

"""What time it is, as the use cases see it (a test passes its own)."""

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]

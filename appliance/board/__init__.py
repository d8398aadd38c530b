"""The HAT's board description and the conversions derived from it."""

from appliance.board.description import BoardDescription, load_board
from appliance.board.scaling import Scaling

__all__ = ["BoardDescription", "Scaling", "load_board"]

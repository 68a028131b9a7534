"""The lettings on offer. A real app would keep them in a database."""

LETTINGS = [
    {"id": 1, "title": "Joshua Tree Green Haus", "city": "Yucca Valley", "rooms": 2},
    {"id": 2, "title": "Oceanview Retreat", "city": "Laguna Beach", "rooms": 3},
    {"id": 3, "title": "Downtown Loft", "city": "Santa Ana", "rooms": 1},
]


def find(letting_id):
    """The letting with this id, or None."""
    return next((item for item in LETTINGS if item["id"] == letting_id), None)

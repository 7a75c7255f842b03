"""Paraphrases of every template and colour, as a VLM might write them, with the skill each means.

None means the text asks for nothing the robot can do here: a missing skill. None of these is one
of the phrasings the retriever compares with (`EXEMPLARS`), so the set tests generalisation.
"""

PARAPHRASES: list[tuple[str, str | None]] = [
    ("Open your gripper.", "open the gripper"),
    ("open the claw fully", "open the gripper"),
    ("release whatever you are holding by opening the fingers", "open the gripper"),
    ("Move the gripper so it is directly above the red cube.", "move above the red block"),
    ("go over the green block", "move above the green block"),
    ("hover the hand above the blue cube", "move above the blue block"),
    ("position yourself right over the blue block", "move above the blue block"),
    ("Close your fingers tightly on the red cube.", "grasp the red block"),
    ("grip the green block with the fingers", "grasp the green block"),
    ("close the fingers around the blue cube", "grasp the blue block"),
    ("seize the green cube", "grasp the green block"),
    ("Get the red cube up into the air.", "lift the red block"),
    ("lift up the green cube", "lift the green block"),
    ("raise the blue block into the air", "lift the blue block"),
    ("pick the green block up off the table", "lift the green block"),
    ("Hold the red cube over the green cube.", "hold the red block above the green block"),
    (
        "keep the blue block suspended above the red block",
        "hold the blue block above the red block",
    ),
    (
        "carry the green block to just above the blue one",
        "hold the green block above the blue block",
    ),
    (
        "hold the red block in the air over the blue block",
        "hold the red block above the blue block",
    ),
    ("hover the blue cube above the green cube", "hold the blue block above the green block"),
    ("Put the red block on the blue one.", "stack the red block on the blue block"),
    ("place the blue cube on top of the red cube", "stack the blue block on the red block"),
    ("stack green onto red", "stack the green block on the red block"),
    ("set the blue block onto the green block", "stack the blue block on the green block"),
    ("make the green cube sit on the blue cube", "stack the green block on the blue block"),
    ("place the red cube underneath the green cube", "stack the green block on the red block"),
    ("slide the blue block under the red block", "stack the red block on the blue block"),
    ("Put the red block beside the green block.", "put the red block next to the green block"),
    ("place the blue cube next to the red cube", "put the blue block next to the red block"),
    (
        "move the green block so it sits right next to the blue block",
        "put the green block next to the blue block",
    ),
    ("set the red cube down alongside the blue cube", "put the red block next to the blue block"),
    (
        "put the blue block adjacent to the green block",
        "put the blue block next to the green block",
    ),
    (
        "Build a tower with red on top of green on top of blue.",
        "build a tower of the red, green and blue blocks",
    ),
    (
        "stack the blue block on the green block and the green block on the red block",
        "build a tower of the blue, green and red blocks",
    ),
    (
        "make a tower: green on top, then red, then blue at the bottom",
        "build a tower of the green, red and blue blocks",
    ),
    (
        "build a three-block tower from the bottom up: red, blue, green",
        "build a tower of the green, blue and red blocks",
    ),
    (
        "pile up the blue, red and green blocks into a tower",
        "build a tower of the blue, red and green blocks",
    ),
    ("juggle the blocks", None),
    ("lift the purple block", None),
    ("stack the yellow block on the red block", None),
    ("paint the table", None),
    ("sing a song", None),
    ("throw the red block across the room", None),
    ("put the red block on the orange block", None),
]

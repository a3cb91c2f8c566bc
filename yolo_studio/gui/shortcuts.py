"""The one table of the labeller's key and mouse bindings.

Actions are created from this table and Help > Shortcuts is generated from
it, so the sheet can never drift from what the keys really do.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    """One user command: the action it creates (if any), its keys, and its help line."""

    name: str                # action id; '' for mouse gestures handled by the canvas
    text: str                # menu / toolbar text
    keys: tuple[str, ...]    # QKeySequence strings, first one shown first
    help: str                # one line for the shortcut sheet
    group: str               # section of the sheet
    icon: str = ""           # file name stem in resources/icons
    labelimg: str = ""       # where LabelImg's key differs: what it does there


LABELLER_BINDINGS: tuple[Binding, ...] = (
    Binding("prev_image", "Previous", ("A",), "Previous image", "Navigate", "prev"),
    Binding("next_image", "Next", ("D",), "Next image", "Navigate", "next"),
    Binding("next_unlabelled", "Next unlabelled", ("U",),
            "Next image without labels", "Navigate"),
    Binding("next_unverified", "Next unverified", ("Shift+U",),
            "Next image not yet verified", "Navigate"),
    Binding("next_suggested", "Next suggested", ("N",),
            "Next suggested image not labelled yet (after Suggest next…)", "Navigate",
            "next-suggested"),
    Binding("refresh", "Reload folder", ("F5",),
            "Look again for new or removed images and for label files changed by other programs "
            "(also done by itself when the folder changes)", "Navigate"),
    Binding("draw", "Draw box", ("W",),
            "Draw a box: drag from corner to corner (Esc cancels)", "Edit", "draw"),
    Binding("delete", "Delete", ("Del", "Backspace"), "Delete the selected boxes", "Edit", "delete"),
    Binding("verify", "Verify", ("Space",),
            "Mark the image verified / unverified (also accepts its pre-labels)", "Edit", "verify"),
    Binding("copy_previous", "Copy previous", ("Ctrl+D",),
            "Copy the previous image's boxes onto this one", "Edit", "copy",
            labelimg="In LabelImg, Ctrl+D duplicates the selected box: Edit > "
                     "\u201cCtrl+D duplicates the selected box\u201d gives it that meaning"),
    Binding("duplicate", "Duplicate box", (),
            "Duplicate the selected boxes (10 px down and right)", "Edit"),
    Binding("accept", "Accept", ("Return", "Enter"),
            "Accept pre-labels (the selected ones, or all on the image)", "Edit", "accept"),
    Binding("set_class", "Set class", tuple(str(i) for i in range(1, 10)),
            "Give the selected boxes class 1-9 (also the class for new boxes)", "Edit"),
    Binding("nudge", "Nudge", ("Left", "Right", "Up", "Down", "Shift+Left", "Shift+Right",
                               "Shift+Up", "Shift+Down"),
            "Move the selected boxes by 1 pixel (with Shift: 10)", "Edit"),
    Binding("undo", "Undo", ("Ctrl+Z",), "Undo the last edit on this image", "Edit", "undo"),
    Binding("redo", "Redo", ("Ctrl+Y", "Ctrl+Shift+Z"), "Redo", "Edit", "redo"),
    Binding("prelabel", "Pre-label…", (),
            "Run a trained model over the selected (or all unlabelled) images", "Edit", "model"),
    Binding("suggest", "Suggest next…", (),
            "Let the model pick the unlabelled images it would learn most from, and sort the list "
            "by them", "Edit", "model"),
    Binding("zoom_in", "Zoom in", ("+", "=", "Ctrl++", "Ctrl+="), "Zoom in around the cursor",
            "View", "zoom-in"),
    Binding("zoom_out", "Zoom out", ("-", "Ctrl+-"), "Zoom out around the cursor", "View", "zoom-out"),
    Binding("fit", "Fit", ("F", "Ctrl+0"), "Fit the image to the window", "View", "fit"),
    Binding("", "", ("Ctrl+Wheel",), "Zoom around the cursor", "View"),
    Binding("", "", ("Middle-drag", "Space+drag"), "Pan", "View"),
    Binding("", "", ("Drag box", "Drag handle"), "Move a box / resize it from a corner or edge",
            "Edit"),
    Binding("", "", ("Ctrl+Click",), "Add a box to the selection", "Edit"),
    Binding("", "", ("Double-click box",), "Change the box's class (type a new name to add one)",
            "Edit"),
)


WINDOW_BINDINGS: tuple[Binding, ...] = (
    Binding("open_folder", "Open folder…", ("Ctrl+O",),
            "Open a folder of images (or a project folder)", "Window", "open"),
    Binding("open_project", "Open project…", ("Ctrl+Shift+O",), "Open a yolo_studio.json", "Window"),
    Binding("save", "Save", ("Ctrl+S",), "Save now (labels also save themselves)", "Window"),
    Binding("quit", "Quit", ("Ctrl+Q",), "Quit (asks first if training runs)", "Window"),
    Binding("shortcuts", "Keyboard shortcuts", ("F1",), "This sheet", "Window"),
)


# Settings key: Ctrl+D duplicates the selected box, as in LabelImg, instead of
# copying the previous image's boxes (which then has no key, only its menu entry).
CTRL_D_DUPLICATES_KEY = "labeller/ctrlDDuplicates"


def keys_for(b: Binding, ctrl_d_duplicates: bool = False) -> tuple[str, ...]:
    """The keys ``b`` has with the Ctrl+D option as given."""
    if ctrl_d_duplicates and b.name == "copy_previous":
        return ()
    if ctrl_d_duplicates and b.name == "duplicate":
        return ("Ctrl+D",)
    return b.keys


def binding(name: str) -> Binding:
    """The binding called ``name`` (KeyError if there is none)."""
    for b in LABELLER_BINDINGS + WINDOW_BINDINGS:
        if b.name == name:
            return b
    raise KeyError(name)


def _keys_text(keys: tuple[str, ...]) -> str:
    if len(keys) == 9 and keys[0] == "1":
        return "1 … 9"
    if keys and keys[0] == "Left":
        return "Arrows / Shift+Arrows"
    return " / ".join(keys)


def shortcut_sheet_html(bindings=LABELLER_BINDINGS + WINDOW_BINDINGS,
                        ctrl_d_duplicates: bool = False) -> str:
    """An HTML table of every binding, grouped, for Help > Shortcuts."""
    groups: dict[str, list[Binding]] = {}
    for b in bindings:
        keys = keys_for(b, ctrl_d_duplicates)
        if keys:
            note = "" if ctrl_d_duplicates else b.labelimg
            groups.setdefault(b.group, []).append(Binding(b.name, b.text, keys, b.help, b.group,
                                                          b.icon, note))
    parts = ["<style>td{padding:2px 10px 2px 0} th{text-align:left;padding-top:10px}"
             " code{font-weight:bold}</style><table>"]
    for group, items in groups.items():
        title = "Window (every tab)" if group == "Window" else f"{group} (Label tab)"
        parts.append(f"<tr><th colspan=2>{title}</th></tr>")
        for b in items:
            note = f"<br><i>{b.labelimg}</i>" if b.labelimg else ""
            parts.append(f"<tr><td><code>{_keys_text(b.keys)}</code></td><td>{b.help}{note}</td></tr>")
    parts.append("</table>")
    return "".join(parts)

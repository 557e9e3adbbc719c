"""The desk's themes and the domain colours every theme must resolve.

Panes colour numbers with `$profit`, `$loss`, `$bid` and `$ask`. The defaults below are
handed to Textual through `App.get_theme_variable_defaults`, so a theme that does not set
them (a built-in one, say) still renders; our own themes tune them to their background.
"""

from __future__ import annotations

from importlib.resources import files

from textual.theme import Theme

STYLESHEET = str(files(__name__) / "desk.tcss")

DOMAIN_VARIABLE_DEFAULTS: dict[str, str] = {
    "profit": "#4EBF71",
    "loss": "#E5534B",
    "bid": "#4EBF71",
    "ask": "#E5534B",
    "neutral": "#8A8F98",
}

DESK_DARK = Theme(
    name="desk-dark",
    primary="#3B8EEA",
    secondary="#1F5F99",
    accent="#E0A030",
    warning="#E0A030",
    error="#E5534B",
    success="#4EBF71",
    foreground="#D8DCE2",
    background="#111418",
    surface="#181C22",
    panel="#222831",
    dark=True,
    variables={
        "profit": "#4EBF71",
        "loss": "#E5534B",
        "bid": "#57C785",
        "ask": "#EE6A5F",
        "neutral": "#8A8F98",
    },
)

DESK_LIGHT = Theme(
    name="desk-light",
    primary="#1F5F99",
    secondary="#3B8EEA",
    accent="#A35F00",
    warning="#A35F00",
    error="#B3261E",
    success="#1B7F3B",
    foreground="#1C2026",
    background="#F4F5F7",
    surface="#FFFFFF",
    panel="#E3E6EA",
    dark=False,
    variables={
        "profit": "#1B7F3B",
        "loss": "#B3261E",
        "bid": "#1B7F3B",
        "ask": "#B3261E",
        "neutral": "#5F6670",
        "footer-key-foreground": "#1F5F99",
    },
)

THEMES: tuple[Theme, ...] = (DESK_DARK, DESK_LIGHT)

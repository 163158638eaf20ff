"""Actions that change case state, one module per concern (see STYLE.md)."""

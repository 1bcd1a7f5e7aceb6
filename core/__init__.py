"""Plain building blocks every app may use; nothing here imports an app (DESIGN.md 1)."""

"""Config model, naming and data validation shared by app.py, the stacks and local/."""

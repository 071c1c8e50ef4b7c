"""The model side of the "Inside the Transformer" pages: each module opens up a real model (or the
course's worked example) and returns plain Python values, rounded, one layer at a time: no gradio here."""

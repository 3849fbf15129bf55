"""Prints every environment variable it can see, and the planted secrets it looks for."""

import os

for name in ("PLANTED_SECRET_TOKEN", "MODEL_API_KEY"):
    print(f"{name}={os.environ.get(name)}")
print("env:", sorted(os.environ))
print()
print(
    f"My key is {os.environ.get('MODEL_API_KEY')} and the planted one is "
    f"{os.environ.get('PLANTED_SECRET_TOKEN')}"
)

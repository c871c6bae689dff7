"""Write a split file: python -m rtliver_train.split --layout msd --root DIR --out split.json [--val 0.2 --test 0.2]."""

from .datasets import main

if __name__ == "__main__":
    main()

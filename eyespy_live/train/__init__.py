"""Training the eye-state model (optional extra `[train]`: TensorFlow, scikit-learn).

`python -m eyespy_live.train --data ../shared/data --out models/` builds the data set from
the shared folder, trains, exports the int8 TFLite model and writes the model card.
Runtime modules never import this package.
"""

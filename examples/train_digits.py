"""Train a small network on real handwritten digits with lamina's Layers API.

The 1,797 8×8 digit images that scikit-learn ships (no download), 80% to train and 20% to
test. Prints a progress bar per epoch, the test accuracy and the confusion matrix, and saves
the model in the TensorFlow.js format (model.json + weights.bin) for the browser.

    pip install ".[examples]" && python examples/train_digits.py
    python examples/train_digits.py --epochs 5 --verbose 2 --save /tmp/digits
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits

import lamina as lm


def load(seed):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    y = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], y[train], x[test], y[test]


def build_model():
    model = lm.sequential(layers=[
        lm.layers.dense(input_shape=[64], units=64, activation="relu"),
        lm.layers.dense(units=10, activation="softmax"),
    ])
    model.compile(optimizer=lm.train.adam(0.01), loss="categoricalCrossentropy", metrics=["accuracy"])
    return model


def confusion_matrix(truth, predicted, classes=10):
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    parser.add_argument("--save", default="digits-model", metavar="FOLDER",
                        help="where to save the trained model (default: digits-model)")
    args = parser.parse_args()

    lm.set_seed(args.seed)
    x_train, y_train, x_test, y_test = load(args.seed)
    model = build_model()
    model.summary()
    onehot = np.eye(10, dtype=np.float32)
    model.fit(x_train, onehot[y_train], epochs=args.epochs, batch_size=32, validation_split=0.1,
              verbose=args.verbose)

    predicted = model.predict(x_test).numpy().argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"Test accuracy: {accuracy:.4f} on {len(y_test)} held-out digits")
    print("Confusion matrix (rows: true digit, columns: predicted):")
    print("     " + " ".join(f"{d:4d}" for d in range(10)))
    for digit, row in enumerate(confusion_matrix(y_test, predicted)):
        print(f"{digit:4d} " + " ".join(f"{n:4d}" for n in row))

    model.save(args.save)
    print(f"Saved the model to {args.save}/ (model.json + weights.bin). TensorFlow.js loads it "
          f"unchanged: serve the folder's parent with `python -m http.server` and call "
          f"tf.loadLayersModel('http://localhost:8000/{args.save}/model.json')")


if __name__ == "__main__":
    main()

"""The "Core API" section of the TensorFlow.js training guide, in lamina.

The guide trains a two-layer network (784 -> 32 relu -> 10) written with variables and ops,
`optimizer.minimize` and `tf.losses.softmaxCrossEntropy`. Its data are random inputs with
random labels, which nothing can learn. Here the data are learnable: like images, the
784 input values are driven by a few hidden factors (16, mixed linearly into 784
values), and the label is the class a fixed linear "teacher" scores highest from those
factors. The loss falls and the accuracy on samples never trained on rises.

    python examples/core_api.py --epochs 5
"""

import argparse
import math

import numpy as np

import lamina as lm
from lamina.random import generator

INPUTS, HIDDEN, CLASSES = 784, 32, 10
FACTORS = 16


def make_data(samples, mixing, teacher):
    """Inputs made from random factors, and the one-hot class the teacher gives each."""
    factors = lm.random_normal([samples, FACTORS])
    xs = factors.matmul(mixing)
    labels = lm.argmax(factors.matmul(teacher), 1)
    return xs.numpy(), lm.one_hot(labels, CLASSES, dtype="float32").numpy()


lm.set_seed(0)  # the same weights, data and shuffles on every run

# The guide initialises every weight with tf.randomNormal (stddev 1). With 784 inputs that
# puts hidden pre-activations at a standard deviation of about sqrt(784) = 28 and the logits
# in the hundreds, so SGD at 0.1 diverges (TF.js's own run goes from loss 837 to 16882).
# Scaling each weight matrix by sqrt(2 / fan_in) (He initialisation, made for relu) keeps
# activations near unit size; biases start at zero, as the Layers API would start them.
w1 = lm.variable(lm.random_normal([INPUTS, HIDDEN], stddev=math.sqrt(2 / INPUTS)))
b1 = lm.variable(lm.zeros([HIDDEN]))
w2 = lm.variable(lm.random_normal([HIDDEN, CLASSES], stddev=math.sqrt(2 / HIDDEN)))
b2 = lm.variable(lm.zeros([CLASSES]))


def model(x):
    # As in the guide, the model returns logits: softmax_cross_entropy applies the softmax.
    return x.matmul(w1).add(b1).relu().matmul(w2).add(b2)


def accuracy(xs, ys):
    predicted = lm.argmax(model(lm.tensor(xs)), 1).numpy()
    return float(np.mean(predicted == ys.argmax(1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=2048, help="training samples")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    args = parser.parse_args()

    mixing = lm.random_normal([FACTORS, INPUTS], stddev=1 / math.sqrt(FACTORS))  # inputs of unit scale
    teacher = lm.random_normal([FACTORS, CLASSES])
    train_x, train_y = make_data(args.samples, mixing, teacher)
    test_x, test_y = make_data(512, mixing, teacher)
    print(f"Before training: test accuracy {accuracy(test_x, test_y):.3f}")

    optimizer = lm.train.sgd(args.learning_rate)
    for epoch in range(args.epochs):
        order = generator().permutation(args.samples)  # shuffle each epoch, as the guide's dataset does
        losses = []
        for start in range(0, args.samples, args.batch_size):
            batch = order[start:start + args.batch_size]
            xs, ys = lm.tensor(train_x[batch]), lm.tensor(train_y[batch])
            cost = optimizer.minimize(lambda: lm.losses.softmax_cross_entropy(ys, model(xs)),
                                      return_cost=True)
            losses.append(cost.item())
        print(f"Epoch {epoch} loss {np.mean(losses):.4f}")
    print(f"After training: test accuracy {accuracy(test_x, test_y):.3f}")


if __name__ == "__main__":
    main()

"""The "Data API" part of the TensorFlow.js training guide (model.fitDataset), in lamina.

Two generators make 100 random inputs and 100 random labels one sample at a time;
lm.data zips them into {"xs", "ys"} elements, shuffles them and batches 32 at a time. The
guide's Layers model trains on that dataset for five epochs with `fit_dataset`, then the
guide's Core API model (variables and ops) trains on the same dataset with
`ds.for_each` and `optimizer.minimize`. The data are random: nothing is learnt; what
matters is that the pipeline streams and both APIs train from it.

    python examples/data_api.py
"""

import math

import lamina as lm

lm.set_seed(0)  # the same weights, data and shuffles on every run

# ---------------------------------------------------------------- the guide's Layers model
model = lm.sequential(layers=[
    lm.layers.dense(input_shape=[784], units=32, activation="relu"),
    lm.layers.dense(units=10, activation="softmax"),
])
model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=["accuracy"])


# ---------------------------------------------------------------- the guide's dataset
def data():
    for i in range(100):
        yield lm.random_normal([784])  # one sample at a time


def labels():
    for i in range(100):
        yield lm.random_uniform([10])


xs = lm.data.generator(data)
ys = lm.data.generator(labels)
# Zip the data and labels together, shuffle and batch 32 samples at a time.
ds = lm.data.zip({"xs": xs, "ys": ys}).shuffle(100).batch(32)

history = model.fit_dataset(ds, epochs=5)
print("Accuracy", history.history["acc"])

# ---------------------------------------------------------------- the Core API on the same data
# The guide's Core model, with its weights scaled to the layer's fan-in (He initialisation):
# the guide's plain randomNormal weights put logits in the hundreds and SGD at 0.1 diverges.
w1 = lm.variable(lm.random_normal([784, 32], stddev=math.sqrt(2 / 784)))
b1 = lm.variable(lm.zeros([32]))
w2 = lm.variable(lm.random_normal([32, 10], stddev=math.sqrt(2 / 32)))
b2 = lm.variable(lm.zeros([10]))
optimizer = lm.train.sgd(0.1)


def core_model(x):
    return x.matmul(w1).add(b1).relu().matmul(w2).add(b2)  # logits


losses = []


def loss_of(batch):
    loss = lm.losses.softmax_cross_entropy(batch["ys"], core_model(batch["xs"]))
    losses.append(loss.item())  # the guide logs each batch's loss: loss.data().then(l => console.log('Loss', l))
    return loss


for epoch in range(5):
    losses.clear()
    ds.for_each(lambda batch: optimizer.minimize(lambda: loss_of(batch)))  # the guide's Core API loop
    print("Epoch", epoch, "loss", round(sum(losses) / len(losses), 4), "over", len(losses), "batches")

"""The "Layers API" section of the TensorFlow.js training guide, in lamina.

The guide builds a 784 -> 32 relu -> 10 softmax model, prints its weights and summary,
sets every weight from a standard normal, compiles it with SGD and categorical
cross-entropy, fits it for five epochs on random data (100 samples, labels drawn
uniformly) while a callback prints each batch's accuracy, then prints the accuracy per
epoch and a prediction. The data are random, so nothing is learnt: what matters is that
the names, shapes, summary table, log keys and output shapes are TF.js's.

    python examples/guide.py
"""

import lamina as lm

lm.set_seed(0)  # the same weights and data on every run

model = lm.sequential(layers=[
    lm.layers.dense(input_shape=[784], units=32, activation="relu"),
    lm.layers.dense(units=10, activation="softmax"),
])

for w in model.weights:
    print(w.name, w.shape)

model.summary()

# The guide overwrites every weight with values from a standard normal distribution.
for w in model.weights:
    w.val.assign(lm.random_normal(w.shape))

model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=["accuracy"])

data = lm.random_normal([100, 784])
labels = lm.random_uniform([100, 10])

history = model.fit(data, labels, epochs=5, batch_size=32,
                    callbacks={"on_batch_end": lambda batch, logs: print("Accuracy", logs["acc"])})
print(history.history["acc"])

prediction = model.predict(lm.random_normal([3, 784]))
prediction.print()

// Writes the TF.js-made fixtures that tests/test_interop.py loads with lamina.
//
//   cd tests/interop && npm ci && node make_fixtures.js ../fixtures/tfjs
//
// Uses @tensorflow/tfjs (pure-JS cpu backend, pinned in package.json). Without tfjs-node
// there is no file:// handler, so `fileSaver` below writes what tfjs-node's NodeFileSystem
// writes: <dir>/model.json (modelTopology, weightsManifest [{paths: ["weights.bin"],
// weights}], format, generatedBy, convertedBy, then trainingConfig / userDefinedMetadata
// when present) and <dir>/weights.bin (the weight data, little-endian, in manifest order).
//
// For every model it also writes <dir>/io.json: the inputs and TF.js's predictions for them,
// and for models saved with their optimizer, one more trainOnBatch: its x, y, loss and the
// predictions after that step.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

// A fixed pseudo-random stream (a 32-bit LCG), so inputs and training data are the same on
// every run. TF.js's own initialisers are not seedable model-wide; the weights differ from
// run to run, which does not matter: the fixtures are written once and committed.
function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function uniformArray(rows, shape, seed, low = -1, high = 1) {
  const next = lcg(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = [];
  for (let r = 0; r < rows; r++) {
    const flat = [];
    for (let i = 0; i < size; i++) flat.push(Math.fround(low + (high - low) * next()));
    out.push(reshapeFlat(flat, shape));
  }
  return out;
}

function reshapeFlat(flat, shape) {
  if (shape.length === 1) return flat;
  const step = flat.length / shape[0];
  const out = [];
  for (let i = 0; i < shape[0]; i++) out.push(reshapeFlat(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
  return out;
}

function oneHot(rows, classes, seed) {
  const next = lcg(seed);
  const out = [];
  for (let r = 0; r < rows; r++) {
    const row = new Array(classes).fill(0);
    row[Math.floor(next() * classes)] = 1;
    out.push(row);
  }
  return out;
}

// --- the saving IOHandler: tfjs-node's file:// layout ------------------------------------

function weightBytes(weightData) {
  // tfjs 4.x may hand over one ArrayBuffer or a list of them (WeightData).
  const buffer = Array.isArray(weightData) ? tf.io.CompositeArrayBuffer.join(weightData) : weightData;
  return Buffer.from(buffer);
}

function fileSaver(dir) {
  return {
    save: async (artifacts) => {
      fs.mkdirSync(dir, { recursive: true });
      const modelJSON = {
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature != null) modelJSON.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata != null) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJSON));
      fs.writeFileSync(path.join(dir, 'weights.bin'), weightBytes(artifacts.weightData));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

// --- the models ------------------------------------------------------------------------

function guideModel() {
  // The guide's model: 784 -> 32 relu -> 10 softmax (about 100 KB of weights).
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 32, inputShape: [784], activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}

function dropoutModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 8, inputShape: [5], activation: 'relu' }));
  model.add(tf.layers.dropout({ rate: 0.3 }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

function activationsModel() {
  // Several Dense layers, one per activation, a few non-default initialisers, no-bias and
  // regularised layers, and a final Activation layer.
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 12, inputShape: [6], activation: 'tanh' }));
  model.add(tf.layers.dense({ units: 10, activation: 'sigmoid', useBias: false, kernelInitializer: 'heNormal' }));
  model.add(tf.layers.dense({ units: 10, activation: 'elu', kernelInitializer: 'glorotUniform' }));
  model.add(tf.layers.dense({ units: 9, activation: 'selu', kernelInitializer: 'leCunNormal' }));
  model.add(tf.layers.dense({ units: 9, activation: 'softplus', kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }));
  model.add(tf.layers.dense({ units: 8, activation: 'softsign', biasInitializer: 'ones' }));
  model.add(tf.layers.dense({ units: 8, activation: 'hardSigmoid', kernelInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5 }) }));
  model.add(tf.layers.dense({ units: 7, activation: 'relu6', kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }) }));
  model.add(tf.layers.dense({ units: 7, activation: 'swish' }));
  model.add(tf.layers.dense({ units: 6, activation: 'mish' }));
  model.add(tf.layers.dense({ units: 6, activation: 'gelu' }));
  model.add(tf.layers.dense({ units: 5, activation: 'gelu_new' }));
  model.add(tf.layers.dense({ units: 4, activation: 'linear', name: 'logits' }));
  model.add(tf.layers.activation({ activation: 'softmax' }));
  return model;
}

function reshapeModel() {
  // Rank-3 input through Flatten and Reshape.
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [2, 3] }));
  model.add(tf.layers.dense({ units: 4, activation: 'relu' }));
  model.add(tf.layers.reshape({ targetShape: [2, 2] }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 2 }));
  return model;
}

function trainedModel(optimizer) {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 6, inputShape: [4], activation: 'relu' }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

// --- writing -------------------------------------------------------------------------------

async function writeFixture(outDir, name, model, inputShape, { seed, saveConfig, train } = {}) {
  const dir = path.join(outDir, name);
  const inputs = uniformArray(5, inputShape, seed);
  const io = { inputs, predictions: model.predict(tf.tensor(inputs)).arraySync() };
  await model.save(fileSaver(dir), saveConfig);
  if (train) {
    // The step a reloaded model must reproduce: one more batch on the saved model.
    const loss = await model.trainOnBatch(tf.tensor(train.x), tf.tensor(train.y));
    io.next_step = {
      x: train.x, y: train.y, loss,
      iterations: model.optimizer.iterations,
      predictions: model.predict(tf.tensor(inputs)).arraySync(),
    };
  }
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify(io));
  console.log(`wrote ${dir}`);
}

async function main() {
  const outDir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'fixtures', 'tfjs'));
  await tf.setBackend('cpu');

  await writeFixture(outDir, 'guide', guideModel(), [784], { seed: 1 });
  await writeFixture(outDir, 'dropout', dropoutModel(), [5], { seed: 2 });
  await writeFixture(outDir, 'activations', activationsModel(), [6], { seed: 3 });
  await writeFixture(outDir, 'reshape', reshapeModel(), [2, 3], { seed: 4 });

  const x = uniformArray(24, [4], 5);
  const y = oneHot(24, 3, 6);
  const nextBatch = { x: uniformArray(8, [4], 7), y: oneHot(8, 3, 8) };
  const optimizers = {
    adam_trained: tf.train.adam(0.01),
    rmsprop_trained: tf.train.rmsprop(0.01, 0.9, 0.5),
  };
  for (const [name, optimizer] of Object.entries(optimizers)) {
    const model = trainedModel(optimizer);
    await model.fit(tf.tensor(x), tf.tensor(y), { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    await writeFixture(outDir, name, model, [4], { seed: 9, saveConfig: { includeOptimizer: true }, train: nextBatch });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

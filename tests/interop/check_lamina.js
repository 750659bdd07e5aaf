// Loads a model folder (model.json + weight files, e.g. one written by lamina's model.save)
// with TF.js's own loader and prints what TF.js makes of it, as JSON, to an output file.
//
//   node check_lamina.js <model dir or model.json> <request.json> <out.json>
//
// request.json: {"inputs": [...]} and optionally {"train": {"x": [...], "y": [...]}}.
// out.json: {"predictions", "weight_names", "compiled", and when compiled "optimizer",
// "optimizer_config", "iterations"; with "train": "train_loss" (trainOnBatch on x, y)
// and "predictions_after_train"}.
//
// Uses @tensorflow/tfjs (pure-JS cpu backend). The loading IOHandler reads files the way
// tfjs-node's file:// handler does: every group's paths, relative to model.json, read in
// order and concatenated; then tf.io.getModelArtifactsForJSON, TF.js's own code, builds the
// artifacts. (Output goes to a file because TF.js prints a banner on stdout.)
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

function fileLoader(modelPath) {
  const jsonPath = fs.statSync(modelPath).isDirectory() ? path.join(modelPath, 'model.json') : modelPath;
  const dir = path.dirname(jsonPath);
  return {
    load: async () => {
      const modelJSON = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) buffers.push(fs.readFileSync(path.join(dir, file)));
        }
        const data = Buffer.concat(buffers);
        return [specs, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)];
      });
    },
  };
}

async function main() {
  const [modelPath, requestPath, outPath] = process.argv.slice(2);
  if (!outPath) throw new Error('usage: node check_lamina.js <model dir or model.json> <request.json> <out.json>');
  await tf.setBackend('cpu');
  const request = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  const model = await tf.loadLayersModel(fileLoader(modelPath));

  const out = {
    predictions: model.predict(tf.tensor(request.inputs)).arraySync(),
    weight_names: model.weights.map((w) => w.originalName),
    compiled: model.optimizer != null,
  };
  if (model.optimizer != null) {
    out.optimizer = model.optimizer.getClassName();
    out.optimizer_config = model.optimizer.getConfig();
    out.iterations = model.optimizer.iterations;
  }
  if (request.train) {
    out.train_loss = await model.trainOnBatch(tf.tensor(request.train.x), tf.tensor(request.train.y));
    out.predictions_after_train = model.predict(tf.tensor(request.inputs)).arraySync();
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});

// Calls Stipple through the official openai package, as an application that uses OpenAI's Images API
// would, and prints what the package returned as JSON for OpenAiNodeClientTest to check.
// Usage: node images.mjs BASE_URL IMAGE_PNG MASK_PNG
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const [baseURL, imagePath, maskPath] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.STIPPLE_API_KEY || "not-checked-when-access-control-is-off" });

const generated = await client.images.generate({
  model: "tiny-fixture", prompt: "a red circle", n: 2, size: "32x48", response_format: "b64_json",
});
const viaUrl = await client.images.generate({ prompt: "a blue square" });
const fetched = await fetch(viaUrl.data[0].url);
const edited = await client.images.edit({
  image: await toFile(fs.createReadStream(imagePath), "image.png", { type: "image/png" }),
  mask: await toFile(fs.createReadStream(maskPath), "mask.png", { type: "image/png" }),
  prompt: "a red circle and a blue square", size: "64x64", response_format: "b64_json",
});
let refused;
try {
  await client.images.generate({ model: "dall-e-3", prompt: "a cat" });
} catch (error) {
  refused = { status: error.status, type: error.type, param: error.param, message: error.message };
}

console.log(JSON.stringify({
  generated: { created: generated.created, images: generated.data.map((d) => d.b64_json) },
  url: { url: viaUrl.data[0].url, status: fetched.status, type: fetched.headers.get("content-type") },
  edited: edited.data.map((d) => d.b64_json),
  refused,
}));

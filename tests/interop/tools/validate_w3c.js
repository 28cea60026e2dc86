// validate-web-annotation 0.3.0 on every annotation of a NewsNotes W3C export.
// Usage: node validate_w3c.js EXPORT.jsonld (with NODE_PATH=.interop/npm/node_modules). Prints JSON:
// per annotation, the package's verdict and the errors of its own schema (wadm-schema.js, compiled as it does).
const fs = require("fs");
const Ajv = require("ajv");
const validateAnnotation = require("validate-web-annotation");
const createSchema = require("validate-web-annotation/wadm-schema.js");
const formats = require("validate-web-annotation/formats.js");

const ajv = new Ajv({ allErrors: true });
ajv.addFormat("iri", formats.iri);
const explain = ajv.compile(createSchema());

const collection = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = collection.first.items.map((item) => {
  // Inside a collection the context is the collection's; a standalone annotation carries it itself.
  const annotation = { "@context": collection["@context"], ...item };
  const valid = validateAnnotation(annotation);
  explain(annotation);
  const errors = (explain.errors || []).map((e) => `${e.dataPath} ${e.keyword} ${e.message}`);
  // The package types created/modified as JSON Schema "date" (a day); the model says xsd:dateTime.
  const { created, modified, ...untimed } = annotation;
  return { id: item.id, valid, errors, validWithoutTimes: validateAnnotation(untimed) };
});
console.log(JSON.stringify({ version: require("validate-web-annotation/package.json").version, results }));

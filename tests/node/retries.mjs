// One request through Sekisho with the official Node SDK and its own retry logic; prints the
// outcome as JSON: {"status", "code", "seconds"}.
//   node tests/node/retries.mjs BASE_URL chat|embeddings MAX_RETRIES
import OpenAI from "openai";

const [baseURL, scenario, retries] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-client-key", maxRetries: Number(retries) });
const started = Date.now();
let status = 200;
let code = null;
try {
  if (scenario === "embeddings") {
    await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "Mail sora.ito@example-shop.jp",
    });
  } else {
    await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "What is TCP?" }],
    });
  }
} catch (err) {
  status = err.status ?? 0;
  code = err.code ?? null;
}
console.log(JSON.stringify({ status, code, seconds: (Date.now() - started) / 1000 }));

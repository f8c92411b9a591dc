// Exercises Flint through the official OpenAI SDK: completions and chat completions, streaming and not, plus an
// error. Prints one JSON line with what it saw; OpenAiSdkTest asserts on it. Usage: node openai-sdk-check.mjs BASE_URL
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "unused", maxRetries: 0 });
const out = {};

const models = await client.models.list();
out.model = models.data[0].id;

const c = await client.completions.create({ model: out.model, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
out.completion = { text: c.choices[0].text, finish: c.choices[0].finish_reason, usage: c.usage };

let streamed = "";
const cs = await client.completions.create({ model: out.model, prompt: "Once upon a time", max_tokens: 8, temperature: 0, stream: true });
for await (const chunk of cs) streamed += chunk.choices[0]?.text ?? "";
out.completionStreamed = streamed;

const chat = await client.chat.completions.create({
  model: out.model, max_tokens: 6, temperature: 0, messages: [{ role: "user", content: "Hi" }],
});
out.chat = { text: chat.choices[0].message.content, role: chat.choices[0].message.role, usage: chat.usage };

let chatStreamed = "";
const chs = await client.chat.completions.create({
  model: out.model, max_tokens: 6, temperature: 0, stream: true, stream_options: { include_usage: true },
  messages: [{ role: "user", content: "Hi" }],
});
for await (const chunk of chs) {
  chatStreamed += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) out.chatStreamUsage = chunk.usage;
}
out.chatStreamed = chatStreamed;

try {
  await client.completions.create({ model: out.model, prompt: "x", max_tokens: -5 });
  out.error = null;
} catch (e) {
  out.error = { status: e.status, message: e.message };
}
console.log(JSON.stringify(out));

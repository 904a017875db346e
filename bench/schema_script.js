// A signup form validated with Schema (bench): five fields, two coerced, one default, then the
// result kept in the session.
const schema = Schema.object({
  email: Schema.string().email().required(),
  name: Schema.string().min(2).max(100).required(),
  age: Schema.number().integer().min(18),
  plan: Schema.string().valid("basic", "pro").default("basic"),
  newsletter: Schema.boolean().default(false),
});
const result = schema.validate(request.body);
if (result.valid) session.set("signup", result.value);
setVariable("errors", result.errors);

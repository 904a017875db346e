// The signup form's rules, as a Schema (the validator every backend script has): a module can
// export a schema, or, as here, a function that makes one with the labels of the page's language.

export const PLANS = ["basic", "pro"];

export function signupSchema(labels) {
  return Schema.object({
    name: Schema.string().required().min(2).max(80).label(labels.name),
    email: Schema.string().required().email().label(labels.email),
    plan: Schema.string().valid(...PLANS).default("basic").label(labels.plan),
    newsletter: Schema.boolean().default(false),   // a checkbox: "1" when ticked, absent if not
  });
}

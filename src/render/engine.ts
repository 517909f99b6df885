// The template engine: one private Handlebars instance, strict about every variable, loading
// templates/NAME.hbs next to the package. Rendering is pure apart from reading those files.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { RenderError } from '../errors.ts';
import { packagePath } from '../paths.ts';

const templatesDir = `${packagePath('templates')}/`;

function templatePath(name: string): string {
  return `${templatesDir}${name}.hbs`;
}

/** What a template may be given: text, numbers, flags, and lists or plain objects of those. */
export type TemplateValue = string | number | boolean | TemplateValue[] | { [key: string]: TemplateValue };
export type TemplateContext = { [key: string]: TemplateValue };

const engine = Handlebars.create();

// Strict mode only checks plain {{name}} lookups; a block helper's argument ({{#each databases}})
// that does not resolve is silently falsy, which would drop binlog_do_db lines without a word.
// The context holds no undefined values (assertTemplateContext), so an undefined argument here can
// only be a name the renderer does not provide. trackIds gives us that name to report.
for (const name of ['if', 'unless', 'each', 'with']) {
  const builtin = engine.helpers[name];
  if (!builtin) throw new Error(`Handlebars has no built-in helper "${name}"`);
  engine.registerHelper(name, function (this: unknown, ...args: unknown[]) {
    const options = args[args.length - 1] as { ids?: unknown[]; loc?: unknown };
    args.slice(0, -1).forEach((value, i) => {
      if (value === undefined) throw new Handlebars.Exception(`"${String(options.ids?.[i])}" not defined`, options as hbs.AST.Node);
    });
    return builtin.apply(this, args as Parameters<Handlebars.HelperDelegate>);
  });
}

// Every file duet writes starts with the same "managed by duet" comment.
engine.registerPartial('header', (context: unknown) => renderTemplate('header.partial', context as TemplateContext));
// The shell functions and settings both role scripts (duet-writer, duet-monitor) start with.
engine.registerPartial('role-functions', (context: unknown) => renderTemplate('role-functions.partial', context as TemplateContext));

// trackIds (passes helper argument names as options.ids) is a real option missing from the typings.
const compileOptions: CompileOptions & { trackIds: boolean } = { strict: true, noEscape: true, trackIds: true };
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function compiledTemplate(name: string): HandlebarsTemplateDelegate {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(templatePath(name), 'utf8');
    template = engine.compile(source, compileOptions);
    compiled.set(name, template);
  }
  return template;
}

/**
 * Renders templates/NAME.hbs. A variable the template uses but the context lacks (or holds as
 * undefined/null) throws RenderError naming the template file and the variable.
 */
export function renderTemplate(name: string, context: TemplateContext): string {
  const file = templatePath(name);
  assertTemplateContext(context, file);
  try {
    return compiledTemplate(name)(context);
  } catch (err) {
    if (err instanceof RenderError) throw err; // from a partial, which names its own file
    const undefinedVariable = err instanceof Error ? /^"(.*)" not defined.*?(?: - (\d+):(\d+))?$/.exec(err.message) : null;
    if (undefinedVariable) {
      const [, variable, line, column] = undefinedVariable;
      // Handlebars counts columns from 0; editors and compilers count from 1.
      const where = line === undefined ? '' : `:${line}:${Number(column) + 1}`;
      throw new RenderError(`${file}${where}: template uses "${variable}", which the renderer does not provide`, {
        hint: 'a template and src/render/desired.ts disagree on variable names; this is a bug in duet',
        cause: err,
      });
    }
    throw new RenderError(`${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// Strict mode accepts a key that is present but undefined and renders it as "". A class instance
// (a Secret that was not revealed) would render as its toString(). Both are renderer bugs.
function assertTemplateContext(value: unknown, file: string, path = 'context'): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertTemplateContext(item, file, `${path}[${i}]`));
    return;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) assertTemplateContext(item, file, `${path}.${key}`);
    return;
  }
  throw new RenderError(`${file}: ${path} is ${describeValue(value)}; templates take only text, numbers, flags, lists and plain objects`, {
    hint: 'this is a bug in duet (src/render/desired.ts)',
  });
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${value.constructor.name}`;
  return `a ${typeof value}`;
}

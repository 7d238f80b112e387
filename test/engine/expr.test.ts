import { describe, expect, it } from "vitest";
import { DflowConfigError } from "../../src/errors.js";
import { evaluate, evaluateWhen, isTruthy, parseExpr, type Node } from "../../engine/expr/index.js";

const ev = (src: string, env: Record<string, unknown> = {}): unknown => evaluate(src, env);

function errorOf(fn: () => unknown): DflowConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DflowConfigError);
    return e as DflowConfigError;
  }
  throw new Error("expected an error");
}

describe("expr: literals", () => {
  it("numbers", () => {
    expect(ev("42")).toBe(42);
    expect(ev("1.5")).toBe(1.5);
    expect(ev("1e3")).toBe(1000);
    expect(ev("2.5e-1")).toBe(0.25);
    expect(ev("0xff")).toBe(255);
    expect(ev("0b101")).toBe(5);
    expect(ev("0o17")).toBe(15);
    expect(ev("1_000")).toBe(1000);
  });

  it("strings with escapes", () => {
    expect(ev("'it\\'s'")).toBe("it's");
    expect(ev('"say \\"hi\\""')).toBe('say "hi"');
    expect(ev("'a\\nb\\tc'")).toBe("a\nb\tc");
    expect(ev("'\\u00e9\\x41'")).toBe("éA");
    expect(ev("'\\\\'")).toBe("\\");
    expect(ev("`raw\\n`")).toBe("raw\\n");
    expect(ev(`"it's"`)).toBe("it's");
  });

  it("true, false, nil, null", () => {
    expect(ev("true")).toBe(true);
    expect(ev("false")).toBe(false);
    expect(ev("nil")).toBe(null);
    expect(ev("null")).toBe(null);
  });

  it("lists and maps", () => {
    expect(ev("[1, 2]")).toEqual([1, 2]);
    expect(ev("[]")).toEqual([]);
    expect(ev("[1, 'a', [true],]")).toEqual([1, "a", [true]]);
    expect(ev("{a: 1, 'b-c': 2}")).toEqual({ a: 1, "b-c": 2 });
    expect(ev('{"x": [1], 3: nil}')).toEqual({ x: [1], "3": null });
    expect(ev("{(k): 1}", { k: "dyn" })).toEqual({ dyn: 1 });
    expect(ev("{}")).toEqual({});
  });

  it("a __proto__ key is an ordinary key", () => {
    const m = ev("{'__proto__': 1}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.keys(m)).toEqual(["__proto__"]);
    expect(ev("toJson({'__proto__': 1})")).toBe('{"__proto__":1}');
  });

  it("comments", () => {
    expect(ev("1 + /* two */ 2 // trailing")).toBe(3);
  });
});

describe("expr: precedence and arithmetic", () => {
  it("follows expr-lang's operator table", () => {
    expect(ev("1 + 2 * 3")).toBe(7);
    expect(ev("(1 + 2) * 3")).toBe(9);
    expect(ev("10 - 4 - 3")).toBe(3);
    expect(ev("2 ** 3 ** 2")).toBe(512);
    expect(ev("2 ^ 3")).toBe(8);
    expect(ev("-2 ** 2")).toBe(-4);
    expect(ev("-3 + 5")).toBe(2);
    expect(ev("1 + 2 == 3")).toBe(true);
    expect(ev("true || false && false")).toBe(true);
    expect(ev("(true || false) && false")).toBe(false);
    expect(ev("!false && true")).toBe(true);
    expect(ev("not false and true")).toBe(true);
    expect(ev("false or true")).toBe(true);
    expect(ev("1 < 2 && 3 > 2")).toBe(true);
  });

  it("/ gives a float, % and ** work on numbers", () => {
    expect(ev("7 / 2")).toBe(3.5);
    expect(ev("4 / 2")).toBe(2);
    expect(ev("7 % 3")).toBe(1);
    expect(ev("2 ** 10")).toBe(1024);
    expect(ev("1.5 * 2")).toBe(3);
  });

  it("+ adds numbers, joins strings and lists", () => {
    expect(ev("1 + 2")).toBe(3);
    expect(ev("'a' + 'b'")).toBe("ab");
    expect(ev("x + '-suffix'", { x: "v" })).toBe("v-suffix");
    expect(ev("[1] + [2, 3]")).toEqual([1, 2, 3]);
  });

  it("type errors quote the expression", () => {
    const e = errorOf(() => ev("'a' + 1"));
    expect(e.message).toContain(`cannot evaluate expression "'a' + 1"`);
    expect(e.message).toContain("invalid operation");
    expect(errorOf(() => ev("x - 1", { x: "3" })).message).toContain("needs numbers");
    expect(errorOf(() => ev("5 % 0")).message).toContain("integer divide by zero");
    expect(errorOf(() => ev("1 && true")).message).toContain("needs bools");
    expect(errorOf(() => ev("!'x'")).message).toContain("not needs a bool");
    expect(errorOf(() => ev("-'x'")).message).toContain("needs a number");
  });

  it("range operator", () => {
    expect(ev("1..3")).toEqual([1, 2, 3]);
    expect(ev("3..1")).toEqual([]);
  });
});

describe("expr: comparisons and equality", () => {
  it("compares numbers, strings and numeric strings", () => {
    expect(ev("1 < 2")).toBe(true);
    expect(ev("2 <= 2")).toBe(true);
    expect(ev("'a' < 'b'")).toBe(true);
    expect(ev("'10' < '9'")).toBe(true); // two strings compare as text
    expect(ev("x > 9", { x: "10" })).toBe(true); // numeric string vs number: numerically
    expect(ev("9 >= x", { x: "10" })).toBe(false);
    expect(errorOf(() => ev("x > 1", { x: "abc" })).message).toContain("ordering needs two numbers or two strings");
    expect(errorOf(() => ev("true < 1")).message).toContain("invalid operation");
    expect(errorOf(() => ev("nil < 1")).message).toContain("invalid operation");
  });

  it("== compares type and value, deeply", () => {
    expect(ev("1 == 1.0")).toBe(true);
    expect(ev("'a' == 'a'")).toBe(true);
    expect(ev("'true' == true")).toBe(false);
    expect(ev("'5' == 5")).toBe(true); // dflow-ts leniency
    expect(ev("'5.0' == 5")).toBe(true);
    expect(ev("'abc' == 5")).toBe(false);
    expect(ev("[1, [2]] == [1, [2]]")).toBe(true);
    expect(ev("[1, 2] == [2, 1]")).toBe(false);
    expect(ev("{a: 1, b: [2]} == {b: [2], a: 1}")).toBe(true);
    expect(ev("{a: 1} == {a: 1, b: 2}")).toBe(false);
    expect(ev("nil == nil")).toBe(true);
    expect(ev("nil != 0")).toBe(true);
    expect(ev("a.missing == nil", { a: {} })).toBe(true);
    expect(ev("a.missing == ''", { a: {} })).toBe(false);
  });

  it("in / not in", () => {
    expect(ev("2 in [1, 2, 3]")).toBe(true);
    expect(ev("4 in [1, 2, 3]")).toBe(false);
    expect(ev("'b' in {a: 1, b: 2}")).toBe(true);
    expect(ev("'c' in {a: 1, b: 2}")).toBe(false);
    expect(ev("'a' not in ['b']")).toBe(true);
    expect(ev("'b' not in ['b']")).toBe(false);
    expect(ev("[1] in [[1], [2]]")).toBe(true);
    expect(ev("x in ['1', '2']", { x: 1 })).toBe(true);
    expect(errorOf(() => ev("1 in 'abc'")).message).toContain("in needs a list or a map");
  });

  it("string operators", () => {
    expect(ev("'hello' contains 'ell'")).toBe(true);
    expect(ev("'hello' startsWith 'he'")).toBe(true);
    expect(ev("'hello' endsWith 'lo'")).toBe(true);
    expect(ev("'hello' not contains 'x'")).toBe(true);
    expect(ev("'abc-123' matches '^[a-z]+-\\\\d+$'")).toBe(true);
    expect(ev("'ABC' matches '(?i)b'")).toBe(true);
    expect(ev("'abc' not matches 'z'")).toBe(true);
    expect(errorOf(() => ev("'a' matches '('")).message).toContain("invalid regular expression");
  });
});

describe("expr: ternary and nil-coalescing", () => {
  it("a real ternary returns a falsy then-branch", () => {
    expect(ev("true ? 0 : 5")).toBe(0);
    expect(ev("true ? '' : 'x'")).toBe("");
    expect(ev("false ? 0 : 5")).toBe(5);
    expect(ev("1 > 2 ? 'a' : 2 > 1 ? 'b' : 'c'")).toBe("b");
    expect(ev("x == 'true' ? 'yes' : 'no'", { x: "true" })).toBe("yes");
    expect(errorOf(() => ev("'x' ? 1 : 2")).message).toContain("must be a bool");
  });

  it("only evaluates the chosen branch", () => {
    expect(ev("true ? 1 : undefinedVar")).toBe(1);
    expect(ev("false && undefinedVar")).toBe(false);
    expect(ev("true || undefinedVar")).toBe(true);
  });

  it("??", () => {
    expect(ev("nil ?? 'd'")).toBe("d");
    expect(ev("'' ?? 'd'")).toBe("");
    expect(ev("0 ?? 5")).toBe(0);
    expect(ev("a.b ?? 'fallback'", { a: {} })).toBe("fallback");
    expect(ev("a.b.c ?? 'fallback'", { a: {} })).toBe("fallback");
    expect(ev("a.b ?? 'fallback'", { a: { b: "set" } })).toBe("set");
    expect(ev("a ?? 'absent'", { a: undefined })).toBe("absent");
  });

  it("elvis ?:", () => {
    expect(ev("nil ?: 3")).toBe(3);
    expect(ev("2 ?: 3")).toBe(2);
  });
});

describe("expr: variables, members, indexes, slices", () => {
  const env = {
    inputs: { parameters: { x: "3", "my-param": "hy", list: [10, 20, 30, 40] } },
    steps: { "flip-coin": { outputs: { result: "heads" } } },
    s: "hello",
  };

  it("member access", () => {
    expect(ev("inputs.parameters.x", env)).toBe("3");
    expect(ev("inputs.parameters['my-param']", env)).toBe("hy");
    expect(ev('inputs["parameters"]["x"]', env)).toBe("3");
    expect(ev("steps['flip-coin'].outputs.result", env)).toBe("heads");
    expect(ev("inputs?.parameters?.x", env)).toBe("3");
    expect(ev("inputs.nothing?.x", env)).toBe(null);
    expect(ev("inputs.nothing?.[0]", env)).toBe(null);
    expect(ev("inputs.nothing", env)).toBe(null);
  });

  it("index, negative index, slices", () => {
    expect(ev("inputs.parameters.list[0]", env)).toBe(10);
    expect(ev("inputs.parameters.list[-1]", env)).toBe(40);
    expect(ev("inputs.parameters.list[1:3]", env)).toEqual([20, 30]);
    expect(ev("inputs.parameters.list[:2]", env)).toEqual([10, 20]);
    expect(ev("inputs.parameters.list[2:]", env)).toEqual([30, 40]);
    expect(ev("inputs.parameters.list[-2:]", env)).toEqual([30, 40]);
    expect(ev("inputs.parameters.list[1:100]", env)).toEqual([20, 30, 40]);
    expect(ev("inputs.parameters.list[3:1]", env)).toEqual([]);
    expect(ev("s[1]", env)).toBe("e");
    expect(ev("s[1:3]", env)).toBe("el");
    expect(ev("[[1, 2], [3]][0][1]")).toBe(2);
    expect(errorOf(() => ev("inputs.parameters.list[4]", env)).message).toContain("index out of range: 4 (list length is 4)");
    expect(errorOf(() => ev("inputs.parameters.list['a']", env)).message).toContain("cannot get field");
    expect(errorOf(() => ev("inputs.parameters.list[1.5]", env)).message).toContain("must be an integer");
  });

  it("unknown root variable is an error, with the position", () => {
    const e = errorOf(() => ev("1 + x", {}));
    expect(e.message).toBe('cannot evaluate expression "1 + x": unknown variable x (1:5)\n | 1 + x\n | ....^');
    expect(errorOf(() => ev("item", { inputs: {} })).message).toContain("unknown variable item");
  });

  it("reads only own data properties", () => {
    expect(ev("a.constructor", { a: {} })).toBe(null);
    expect(ev("a.__proto__", { a: {} })).toBe(null);
    expect(ev("a['toString']", { a: {} })).toBe(null);
    expect(errorOf(() => ev("constructor", {})).message).toContain("unknown variable constructor");
    expect(errorOf(() => ev("toString", {})).message).toContain("unknown variable toString");
    expect(errorOf(() => ev("s.length", { s: "abc" })).message).toContain("cannot get field");
    expect(errorOf(() => ev("l.constructor", { l: [] })).message).toContain("cannot get field");
    const getter = Object.defineProperty({}, "g", { get: () => "leak", enumerable: true });
    expect(ev("o.g", { o: getter })).toBe(null);
  });

  it("a method is only a time's or a duration's: no JavaScript method is reachable", () => {
    expect(errorOf(() => ev("s.toUpperCase()", { s: "abc" })).message).toContain("method toUpperCase is not defined here: methods are called on time.Time and time.Duration values only");
    expect(errorOf(() => ev("duration('1s').constructor()")).message).toContain("time.Duration has no method constructor here");
  });
});

describe("expr: time values (now, date, duration)", () => {
  it("parse and print durations as Go does", () => {
    expect(ev("duration('1h30m').Minutes()")).toBe(90);
    expect(ev("duration('1.5s').Seconds()")).toBe(1.5);
    expect(ev("string(duration('90m'))")).toBe("1h30m0s");
    expect(ev("duration('1.5ms').String()")).toBe("1.5ms");
    expect(ev("string(duration('-2m3s') + duration('3s'))")).toBe("-2m0s");
    expect(ev("duration('300ms') < duration('1s')")).toBe(true);
    expect(ev("duration('1m') == duration('60s')")).toBe(true);
    expect(ev("(duration('1h') * 2).Hours()")).toBe(2);
    expect(errorOf(() => ev("duration('1d')")).message).toContain('time: unknown unit "d" in duration "1d"');
    expect(errorOf(() => ev("duration('10')")).message).toContain('time: missing unit in duration "10"');
  });

  it("parse dates by expr-lang's layouts or a Go layout, in UTC unless they give an offset", () => {
    expect(ev("date('2026-12-05T09:00:00Z').Unix()")).toBe(Date.parse("2026-12-05T09:00:00Z") / 1000);
    expect(ev("date('2026-12-05').Weekday()")).toBe(6);
    expect(ev("date('05/12/2026 7:04PM', '02/01/2006 3:04PM').Hour()")).toBe(19);
    expect(ev("(date('2026-12-05 10:00:00') - date('2026-12-05')).Hours()")).toBe(10);
    expect(ev("(date('2026-12-05T10:00:00+02:00') - date('2026-12-05T08:00:00Z')).Seconds()")).toBe(0);
    expect(ev("date('2026-12-05').Add(duration('36h')).Format('2006-01-02 15:04 Mon')")).toBe("2026-12-06 12:00 Sun");
    expect(ev("string(date('2026-12-05T09:00:00.5Z'))")).toBe("2026-12-05 09:00:00.5 +0000 UTC");
    expect(ev("toJSON(date('2026-12-05'))")).toBe('"2026-12-05T00:00:00Z"');
    expect(ev("sprig.date('Jan 2, 2006', date('2026-12-05'))")).toBe("Dec 5, 2026");
    expect(ev("date('2026-12-05').Before(date('2026-12-06')) && date('2026-12-06') > date('2026-12-05')")).toBe(true);
    expect(errorOf(() => ev("date('2026-02-30')")).message).toContain("invalid date 2026-02-30");
    expect(errorOf(() => ev("date('5 Dec', '2006-01-02')")).message).toContain('parsing time "5 Dec" as "2006-01-02": cannot parse');
  });

  it("now() is the clock's time; a time minus a time is a duration, and the types do not mix", () => {
    const before = Date.now();
    const unix = ev("now().UnixMilli()") as number;
    expect(unix).toBeGreaterThanOrEqual(before);
    expect(ev("now() - date('2020-01-01') > duration('24h')")).toBe(true);
    expect(errorOf(() => ev("now() > 1")).message).toContain("a time orders with a time, a duration with a duration");
    expect(errorOf(() => ev("now() + now()")).message).toContain("a time minus a time is a duration");
    // A CronWorkflow's when, as Argo's docs write it.
    const when = "t == nil || (now() - t).Seconds() > 360";
    expect(ev(when, { t: null })).toBe(true);
    expect(ev(when, { t: ev("now()") })).toBe(false);
    expect(ev(when, { t: ev("date('2020-01-01')") })).toBe(true);
  });
});

describe("expr: closures and predicates", () => {
  it("filter, map, all, any, none, one, count, find", () => {
    expect(ev("filter([1, 3], {# > 1})")).toEqual([3]);
    expect(ev("filter([1, 3], # > 1)")).toEqual([3]);
    expect(ev("map([{name: 'a'}], {#.name})")).toEqual(["a"]);
    expect(ev("map([{name: 'a'}, {name: 'b'}], .name)")).toEqual(["a", "b"]);
    expect(ev("map([5, 6], #index)")).toEqual([0, 1]);
    expect(ev("all([1, 2], {# > 0})")).toBe(true);
    expect(ev("all([], {# > 0})")).toBe(true);
    expect(ev("any([1, 2], {# > 1})")).toBe(true);
    expect(ev("any([1, 2], {# > 2})")).toBe(false);
    expect(ev("none([1, 2], {# > 2})")).toBe(true);
    expect(ev("one([1, 2], {# > 1})")).toBe(true);
    expect(ev("count([1, 2, 3], {# >= 2})")).toBe(2);
    expect(ev("find([1, 2, 3], {# >= 2})")).toBe(2);
    expect(ev("find([1], {# > 5})")).toBe(null);
    expect(ev("findIndex([1, 2, 3], {# == 3})")).toBe(2);
    expect(ev("findLast([1, 2, 3], {# < 3})")).toBe(2);
    expect(ev("findLastIndex([1, 2, 3], {# < 3})")).toBe(1);
    expect(ev("sum([1, 2, 3], {# * 2})")).toBe(12);
  });

  it("closures see the environment and nest", () => {
    expect(ev("filter(xs, {# > limit})", { xs: [1, 5, 9], limit: 4 })).toEqual([5, 9]);
    expect(ev("map([[1, 2], [3]], {map(#, {# * 10})})")).toEqual([[10, 20], [30]]);
    expect(ev("map(items, {#.v ?? 'none'})", { items: [{ v: 1 }, {}] })).toEqual([1, "none"]);
  });

  it("a closure whose body is a map literal", () => {
    expect(ev("map([1, 2], { {'n': #, 'sq': # * #} })")).toEqual([
      { n: 1, sq: 1 },
      { n: 2, sq: 4 },
    ]);
    expect(ev("map([1, 2], {{'n': #}})")).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("dflow's argo_enumerate form", () => {
    const src = `toJson(map(sprig.untilStep(0, 2, 1), {{'order': #, 'k': jsonpath(v, '$')[#]}}))`;
    expect(ev(src, { v: '["a","b"]' })).toBe('[{"order":0,"k":"a"},{"order":1,"k":"b"}]');
    const spaced = `toJson(map(sprig.untilStep(0, len(jsonpath(v, '$')), 1), { {'order': #, 'k': jsonpath(v, '$')[#]} }))`;
    expect(ev(spaced, { v: ["a", "b", "c"] })).toBe('[{"order":0,"k":"a"},{"order":1,"k":"b"},{"order":2,"k":"c"}]');
  });

  it("pipes", () => {
    expect(ev("[1, 2, 3] | filter(# > 1) | map(# * 2)")).toEqual([4, 6]);
    expect(ev("'a,b' | split(',') | join('+')")).toBe("a+b");
    expect(ev("' x ' | trim() | upper()")).toBe("X");
  });

  it("# outside a closure and non-bool predicates are errors", () => {
    expect(errorOf(() => parseExpr("# + 1")).message).toContain("can only be used inside a closure");
    expect(errorOf(() => ev("filter([1], {#})")).message).toContain("the closure must return a bool");
    expect(errorOf(() => ev("filter([1])")).message).toContain("takes a list and a closure");
    expect(errorOf(() => ev("filter(5, {true})")).message).toContain("needs a list");
  });
});

describe("expr: built-ins", () => {
  it("conversions", () => {
    expect(ev("int('3')")).toBe(3);
    expect(ev("int(3.7)")).toBe(3);
    expect(ev("int(-3.7)")).toBe(-3);
    expect(ev("float('2.5')")).toBe(2.5);
    expect(ev("float(2)")).toBe(2);
    expect(ev("asInt(\"3\") + 1")).toBe(4);
    expect(ev("asInt(x) > 1", { x: "2" })).toBe(true);
    expect(ev("asFloat('1.5') * 2")).toBe(3);
    expect(ev("string(12)")).toBe("12");
    expect(ev("string(1.5)")).toBe("1.5");
    expect(ev("string(true)")).toBe("true");
    expect(ev("string('s')")).toBe("s");
    expect(ev("string(nil)")).toBe("<nil>");
    expect(ev("string([1, 'a'])")).toBe("[1 a]");
    expect(ev("string({b: 1, a: 2})")).toBe("map[a:2 b:1]");
    expect(errorOf(() => ev("int('3.5')")).message).toContain('int: cannot convert "3.5" to an integer');
    expect(errorOf(() => ev("asInt('x')")).message).toContain("asInt: cannot convert");
    expect(errorOf(() => ev("float('x')")).message).toContain("float: cannot convert");
  });

  it("len and collections", () => {
    expect(ev("len('abc')")).toBe(3);
    expect(ev("len([1, 2])")).toBe(2);
    expect(ev("len({a: 1})")).toBe(1);
    expect(ev("len('héllo')")).toBe(5);
    expect(errorOf(() => ev("len(5)")).message).toContain("len: needs a string, list or map");
    expect(ev("keys({a: 1, b: 2})")).toEqual(["a", "b"]);
    expect(ev("values({a: 1, b: 2})")).toEqual([1, 2]);
    expect(ev("concat([1], [2, 3], [])")).toEqual([1, 2, 3]);
    expect(ev("get({a: 1}, 'a')")).toBe(1);
    expect(ev("get({a: 1}, 'b')")).toBe(null);
    expect(ev("get([1, 2], 5)")).toBe(null);
    expect(ev("get([1, 2], -1)")).toBe(2);
    expect(ev("sum([1, 2, 3.5])")).toBe(6.5);
    expect(ev("sum([])")).toBe(0);
    expect(ev("min(3, 1, 2)")).toBe(1);
    expect(ev("max([3, 1, 2])")).toBe(3);
    expect(ev("abs(-2)")).toBe(2);
    expect(ev("first([7, 8])")).toBe(7);
    expect(ev("last([7, 8])")).toBe(8);
    expect(ev("first([])")).toBe(null);
    expect(ev("reverse([1, 2])")).toEqual([2, 1]);
    expect(ev("sort([3, 1, 2])")).toEqual([1, 2, 3]);
    expect(ev("sort(['b', 'a'], 'desc')")).toEqual(["b", "a"]);
    expect(ev("uniq([1, 1, 2])")).toEqual([1, 2]);
    expect(ev("flatten([1, [2, [3]]])")).toEqual([1, 2, 3]);
    expect(ev("round(2.5)")).toBe(3);
    expect(ev("ceil(1.2)")).toBe(2);
    expect(ev("floor(1.8)")).toBe(1);
  });

  it("strings", () => {
    expect(ev("join(['a', 'b'], ',')")).toBe("a,b");
    expect(ev("join(['a', 'b'])")).toBe("ab");
    expect(ev("split('a,b,c', ',')")).toEqual(["a", "b", "c"]);
    expect(ev("split('a,b,c', ',', 2)")).toEqual(["a", "b,c"]);
    expect(ev("lower('AbC')")).toBe("abc");
    expect(ev("upper('AbC')")).toBe("ABC");
    expect(ev("trim('  x ')")).toBe("x");
    expect(ev("trim('__x_', '_')")).toBe("x");
    expect(ev("trimPrefix('v1.2', 'v')")).toBe("1.2");
    expect(ev("trimSuffix('a.txt', '.txt')")).toBe("a");
    expect(ev("replace('a-b-c', '-', '_')")).toBe("a_b_c");
    expect(ev("repeat('ab', 2)")).toBe("abab");
    expect(ev("indexOf('hello', 'l')")).toBe(2);
    expect(ev("hasPrefix('hello', 'he')")).toBe(true);
    expect(ev("toBase64('hi')")).toBe("aGk=");
    expect(ev("fromBase64('aGk=')")).toBe("hi");
  });

  it("JSON", () => {
    expect(ev("toJson([1, 'a', {b: true}])")).toBe('[1,"a",{"b":true}]');
    expect(ev("toJSON({a: [1]})")).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(ev("toJson(nil)")).toBe("null");
    expect(ev("fromJSON('{\"a\": [1, 2]}').a[1]")).toBe(2);
    expect(ev("toJson(filter([1, 3], {# > 1}))")).toBe("[3]");
    expect(errorOf(() => ev("fromJSON('{')")).message).toContain("fromJSON: invalid JSON");
    expect(errorOf(() => ev("toJson(1 / 0)")).message).toContain("cannot encode +Inf as JSON");
  });

  it("jsonpath with definite paths", () => {
    expect(ev(`jsonpath('{"a": [1,2]}', '$.a')`)).toEqual([1, 2]);
    expect(ev(`jsonpath('{"a": {"b": 3}}', '$.a.b')`)).toBe(3);
    expect(ev(`jsonpath('[{"value": "x"}]', '$[0].value')`)).toBe("x");
    expect(ev(`jsonpath('{"k-1": 5}', "$['k-1']")`)).toBe(5);
    expect(ev(`jsonpath('[1, 2, 3]', '$[-1]')`)).toBe(3);
    expect(ev(`jsonpath('[1, 2]', '$')`)).toEqual([1, 2]);
    expect(ev("jsonpath(v, '$')", { v: [1, 2] })).toEqual([1, 2]);
    expect(ev("jsonpath(v, '$.a')", { v: { a: "not parsed" } })).toBe("not parsed");
    expect(ev("len(jsonpath(v, '$'))", { v: "[1,2,3]" })).toBe(3);
    expect(ev("sum(jsonpath(v, '$'))", { v: "[1,2,3]" })).toBe(6);
    expect(errorOf(() => ev(`jsonpath('{"a": 1}', '$.b')`)).message).toContain('unknown key "b"');
    expect(errorOf(() => ev(`jsonpath('nope', '$')`)).message).toContain("invalid JSON");
  });

  it("jsonpath with filters, wildcards and slices gives a list (Argo's jsonpath)", () => {
    const staff = `'{"employees": [{"name": "Baris", "age": 43}, {"name": "Mo", "age": 30}]}'`;
    expect(ev(`jsonpath(${staff}, '$.employees[?(@.age>42)].age')`)).toEqual([43]);
    expect(ev(`jsonpath(${staff}, '$.employees[?(@.name=="Baris")].age')`)).toEqual([43]);
    expect(ev(`jsonpath(${staff}, '$.employees[*].name')`)).toEqual(["Baris", "Mo"]);
    expect(ev(`jsonpath('[1, 2, 3]', '$[1:]')`)).toEqual([2, 3]);
    expect(ev(`jsonpath('[1]', '$..a')`)).toEqual([]);
    expect(errorOf(() => ev(`jsonpath('nope', '$')`)).message).toContain("invalid JSON");
  });

  it("sprig", () => {
    expect(ev("toJson(sprig.untilStep(0, 3, 1))")).toBe("[0,1,2]");
    expect(ev("sprig.untilStep(0, 10, 3)")).toEqual([0, 3, 6, 9]);
    expect(ev("sprig.untilStep(3, 0, -1)")).toEqual([3, 2, 1]);
    expect(ev("sprig.untilStep(0, 3, -1)")).toEqual([]);
    expect(ev("sprig.untilStep(0, n, 1)", { n: "2" })).toEqual([0, 1]);
    expect(ev("sprig.until(3)")).toEqual([0, 1, 2]);
    expect(ev("sprig.atoi('42')")).toBe(42);
    expect(ev("sprig.atoi('x')")).toBe(0);
    expect(ev("sprig.int('x')")).toBe(0);
    expect(ev("sprig.int('7')")).toBe(7);
    expect(ev("sprig.int(7.9)")).toBe(7);
    expect(ev("sprig.float64('1.5')")).toBe(1.5);
    expect(ev("sprig.float64('x')")).toBe(0);
    expect(ev("sprig.add(1, 2, '3')")).toBe(6);
    expect(ev("sprig.sub(5, 2)")).toBe(3);
    expect(ev("sprig.mul(2, 3)")).toBe(6);
    expect(ev("sprig.div(7, 2)")).toBe(3);
    expect(ev("sprig.mod(7, 2)")).toBe(1);
    expect(ev("sprig.max(1, 5, 3)")).toBe(5);
    expect(ev("sprig.min(4, 2)")).toBe(2);
    expect(ev("sprig.upper('a')")).toBe("A");
    expect(ev("sprig.lower('A')")).toBe("a");
    expect(ev("sprig.trim('  a ')")).toBe("a");
    expect(ev("sprig.toString(5)")).toBe("5");
    expect(ev("sprig.fromJson('[1]')")).toEqual([1]);
    expect(ev("sprig.fromJson('{')")).toBe(null);
    expect(ev("sprig.toJson({a: 1})")).toBe('{"a":1}');
    expect(ev("sprig.list(1, 'a')")).toEqual([1, "a"]);
    expect(ev("sprig.has(2, [1, 2])")).toBe(true);
    expect(ev("sprig.has(3, [1, 2])")).toBe(false);
    expect(ev("sprig.len([1, 2])")).toBe(2);
    expect(ev("sprig.length('abc')")).toBe(3);
    expect(ev("sprig.default('d', '')")).toBe("d");
    expect(ev("sprig.default('d', 'x')")).toBe("x");
    expect(ev("sprig.b64enc('hi')")).toBe("aGk=");
    expect(ev("sprig.replace('-', '_', 'a-b')")).toBe("a_b");
    expect(errorOf(() => ev("sprig.div(1, 0)")).message).toContain("integer divide by zero");
  });

  it("unknown functions are parse errors", () => {
    const e = errorOf(() => parseExpr("1 + foo(2)"));
    expect(e.message).toBe('invalid expression "1 + foo(2)": unknown function foo (1:5)\n | 1 + foo(2)\n | ....^');
    expect(errorOf(() => ev("sprig.env('HOME')")).message).toContain("unknown function sprig.env");
    expect(errorOf(() => ev("eval('1')")).message).toContain("unknown function eval");
  });

  it("argument errors name the function", () => {
    expect(errorOf(() => ev("len()")).message).toContain("len: takes 1 argument(s), got 0");
    expect(errorOf(() => ev("upper(1)")).message).toContain("upper: argument must be a string, got int 1");
  });
});

describe("expr: parse errors", () => {
  it("report the position with a caret", () => {
    expect(errorOf(() => parseExpr("1 + * 2")).message).toBe('invalid expression "1 + * 2": unexpected token "*" (1:5)\n | 1 + * 2\n | ....^');
    expect(errorOf(() => parseExpr("(1 + 2")).message).toBe('invalid expression "(1 + 2": expected ")", found end of expression (1:7)\n | (1 + 2\n | ......^');
    expect(errorOf(() => parseExpr("1 2")).message).toContain('unexpected number "2" (1:3)');
    expect(errorOf(() => parseExpr("'abc")).message).toContain("unclosed string literal (1:1)");
    expect(errorOf(() => parseExpr("a ? b")).message).toContain('expected ":"');
    expect(errorOf(() => parseExpr("")).message).toContain("empty expression");
    expect(errorOf(() => parseExpr("a @ b")).message).toContain('unexpected character "@" (1:3)');
    expect(errorOf(() => parseExpr("'\\q'")).message).toContain("invalid escape \\q");
    expect(errorOf(() => parseExpr("1 not 2")).message).toContain('after "not"');
    expect(errorOf(() => parseExpr("x\n  + )")).message).toBe('invalid expression "x\\n  + )": unexpected token ")" (2:5)\n |   + )\n | ....^');
  });

  it("a parsed Node can be evaluated, and errors still quote the source", () => {
    const node: Node = parseExpr("a * 2");
    expect(evaluate(node, { a: 21 })).toBe(42);
    expect(evaluate(node, { a: 1 })).toBe(2);
    expect(errorOf(() => evaluate(node, {})).message).toContain('cannot evaluate expression "a * 2": unknown variable a');
  });
});

describe("evaluateWhen (govaluate)", () => {
  it("dflow's three-token text comparison", () => {
    expect(evaluateWhen("heads == heads")).toBe(true);
    expect(evaluateWhen("heads == tails")).toBe(false);
    expect(evaluateWhen("heads != tails")).toBe(true);
    expect(evaluateWhen("1.0 == 1")).toBe(false);
    expect(evaluateWhen("it == it")).toBe(true);
    expect(evaluateWhen("my-value == my-value")).toBe(true);
    expect(evaluateWhen("5 < 5")).toBe(false);
    expect(evaluateWhen("5 <= 5")).toBe(true);
  });

  it("numbers, strings, booleans", () => {
    expect(evaluateWhen("5 < 10")).toBe(true);
    expect(evaluateWhen("3 < 10.5")).toBe(true);
    expect(evaluateWhen("10 > 9")).toBe(true);
    expect(evaluateWhen("5==5.0")).toBe(true);
    expect(evaluateWhen("0x10 == 16 && true")).toBe(true);
    expect(evaluateWhen('"a b" == "a b"')).toBe(true);
    expect(evaluateWhen("'a b' != 'a c'")).toBe(true);
    expect(evaluateWhen('"5" == 5')).toBe(false);
    expect(evaluateWhen('"b" > "a"')).toBe(true);
    expect(evaluateWhen("true")).toBe(true);
    expect(evaluateWhen("false")).toBe(false);
    expect(evaluateWhen("")).toBe(true);
    expect(evaluateWhen("   ")).toBe(true);
  });

  it("logic, parentheses, arithmetic", () => {
    expect(evaluateWhen("true && false")).toBe(false);
    expect(evaluateWhen("true || false")).toBe(true);
    expect(evaluateWhen("!(1 > 2)")).toBe(true);
    expect(evaluateWhen("!true")).toBe(false);
    expect(evaluateWhen("(5 < 10) && (x == x)")).toBe(true);
    expect(evaluateWhen("heads == heads && 1 < 2")).toBe(true);
    expect(evaluateWhen("a == b || c == c")).toBe(true);
    expect(evaluateWhen("1 + 2 * 3 == 7")).toBe(true);
    expect(evaluateWhen("(1 + 2) * 3 == 9")).toBe(true);
    expect(evaluateWhen("2 ** 3 == 8")).toBe(true);
    expect(evaluateWhen("7 % 4 == 3")).toBe(true);
    expect(evaluateWhen("-1 < 0")).toBe(true);
    expect(evaluateWhen("10 - 4 - 3 == 3")).toBe(true);
    expect(evaluateWhen("'a' + 'b' == 'ab'")).toBe(true);
    expect(evaluateWhen("'v' + 1 == 'v1'")).toBe(true);
    expect(evaluateWhen("(6 & 3) == 2 && (1 << 3) == 8")).toBe(true);
    expect(evaluateWhen("true ? false : true")).toBe(false);
    expect(evaluateWhen("1 > 2 ? false : true")).toBe(true);
    expect(evaluateWhen("false && 5")).toBe(false); // short-circuit
  });

  it("regex and in", () => {
    expect(evaluateWhen('"abc" =~ "b"')).toBe(true);
    expect(evaluateWhen('"abc" =~ "^b"')).toBe(false);
    expect(evaluateWhen('"abc" !~ "z"')).toBe(true);
    expect(evaluateWhen('x in ("x", "y")')).toBe(true);
    expect(evaluateWhen('z in ("x", "y")')).toBe(false);
    expect(evaluateWhen('x IN ("x", "y")')).toBe(true);
    expect(evaluateWhen("2 in (1, 2)")).toBe(true);
    expect(evaluateWhen('"" in ("a", "")')).toBe(true);
    expect(evaluateWhen("[a b] == [a b]")).toBe(true);
  });

  it("errors", () => {
    const e = errorOf(() => evaluateWhen("a < 5"));
    expect(e.message).toBe('cannot evaluate when "a < 5": < needs two numbers or two strings, got string "a" and number 5; quote values with spaces or hyphens: "{{...}}" == "x"');
    expect(errorOf(() => evaluateWhen("it was heads == heads")).message).toContain("two values in a row");
    expect(errorOf(() => evaluateWhen("5")).message).toContain("the result must be true or false, got number 5");
    expect(errorOf(() => evaluateWhen("heads")).message).toContain('got string "heads"');
    expect(errorOf(() => evaluateWhen("1 && true")).message).toContain("&& needs bools");
    expect(errorOf(() => evaluateWhen("!5")).message).toContain("! needs a bool");
    expect(errorOf(() => evaluateWhen("(1 < 2")).message).toContain('expected ")"');
    expect(errorOf(() => evaluateWhen("1.2.3 == 1 && true")).message).toContain('cannot parse number "1.2.3"');
    expect(errorOf(() => evaluateWhen("'abc == 1")).message).toContain("unclosed string literal");
    expect(errorOf(() => evaluateWhen("a $ b")).message).toContain('invalid token "$"');
    expect(errorOf(() => evaluateWhen("x == 1 && 2abc == 2")).message).toContain("two values in a row");
  });
});

describe("isTruthy", () => {
  it("treats the strings '', 'false' and '0' as false", () => {
    expect(isTruthy("")).toBe(false);
    expect(isTruthy("false")).toBe(false);
    expect(isTruthy(" False ")).toBe(false);
    expect(isTruthy("0")).toBe(false);
    expect(isTruthy("true")).toBe(true);
    expect(isTruthy("no")).toBe(true);
    expect(isTruthy(true)).toBe(true);
    expect(isTruthy(false)).toBe(false);
    expect(isTruthy(0)).toBe(false);
    expect(isTruthy(2)).toBe(true);
    expect(isTruthy(null)).toBe(false);
    expect(isTruthy(undefined)).toBe(false);
    expect(isTruthy([])).toBe(true);
    expect(isTruthy({})).toBe(true);
  });
});

/**
 * The pattern signals of the prompt-injection detector. Patterns run on folded text (see
 * fold-text.ts: lowercase, NFKC, invisible characters dropped, whitespace runs collapsed to one
 * character), so they use a single `\s` between words and never a quantified one.
 *
 * Linear-time by construction: no nested unbounded quantifiers; repetition is either bounded
 * (`{0,3}`, `{0,60}`) or over one character class followed by a literal that class cannot match,
 * so a failed attempt at one position costs a bounded amount of work. injection.test.ts times the
 * whole detector on adversarial inputs.
 */

export const injectionSignalNames = [
  "ignore-previous-instructions",
  "reveal-system-prompt",
  "role-override",
  "delimiter-injection",
  "encoded-payload",
  "exfiltration-url",
  "unicode-obfuscation",
] as const;
export type InjectionSignalName = (typeof injectionSignalNames)[number];

export interface PatternRule {
  signal: InjectionSignalName;
  /** Probability-like strength of this evidence alone, combined across signals by noisy-OR. */
  weight: number;
  /** Must carry the `g` flag (the detector scans with lastIndex). */
  pattern: RegExp;
  /** Short description, for docs and debugging. */
  note: string;
}

// English building blocks (alternations only; no quantifiers inside).
const IGNORE_VERB = "(?:ignore|disregard|forget|skip|drop|override|bypass|overlook|abandon|discard)";
const FILLER = "(?:(?:all|any|every|each|the|your|my|these|those|of|about|everything|previous|prior)\\s){0,4}";
const PRIOR = "(?:previous|prior|above|earlier|preceding|former|foregoing|initial|original|preset|existing|old)";
const DIRECTIVE =
  "(?:instructions?|rules?|prompts?|directions?|directives?|guidelines?|guidance|context|messages?|commands?|orders?|constraints?|restrictions?|programming|policies|policy)";
const REVEAL_VERB =
  "(?:print|reveal|show|display|output|repeat|recite|dump|leak|expose|disclose|echo|return|paste|write\\sout|spell\\sout|tell\\sme|give\\sme|share|list|type\\sout)";
const SECRET_PROMPT =
  "(?:system\\s?prompt|system\\smessage|system\\sinstructions?|initial\\s(?:instructions?|prompt)|original\\s(?:instructions?|prompt)|hidden\\s(?:instructions?|prompt)|secret\\s(?:instructions?|prompt)|pre-?prompt|instructions\\syou\\s(?:were|have\\sbeen)\\sgiven|developer\\s(?:message|instructions))";

// Chinese building blocks (simplified and traditional).
const ZH_IGNORE =
  "(?:忽略|忽視|忽视|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不要管|跳过|跳過|抛开|拋開|放弃|放棄|绕过|繞過)";
const ZH_PRIOR = "(?:之前|以前|先前|此前|上面|以上|上述|前面|刚才|剛才|原来|原來|原有|原先|原始|初始|你的|系统|系統)";
const ZH_ALL = "(?:所有|全部|一切|任何)";
const ZH_DIRECTIVE = "(?:指令|指示|规则|規則|提示词|提示詞|提示|设定|設定|要求|限制|命令|约束|約束|规定|規定)";
const ZH_REVEAL =
  "(?:显示|顯示|输出|輸出|打印|告诉我|告訴我|透露|泄露|洩露|泄漏|给我看|給我看|重复|重複|展示|说出|說出|列出|复述|複述)";
const ZH_SECRET =
  "(?:系统提示词|系統提示詞|系统提示语|系統提示語|系统提示|系統提示|系统指令|系統指令|系统消息|系統訊息|初始指令|初始提示|原始指令|原始提示|隐藏指令|隱藏指令|system\\s?prompt)";

const rx = (source: string): RegExp => new RegExp(source, "g");

export const patternRules: readonly PatternRule[] = [
  // ignore-previous-instructions
  {
    signal: "ignore-previous-instructions",
    weight: 0.85,
    pattern: rx(`\\b${IGNORE_VERB}\\s${FILLER}${PRIOR}\\s(?:[a-z]{1,12}\\s)?${DIRECTIVE}\\b`),
    note: "ignore/disregard/forget (all) (the) previous/above instructions",
  },
  {
    signal: "ignore-previous-instructions",
    weight: 0.6,
    pattern: rx(`\\b${IGNORE_VERB}\\s(?:all|any|every)\\s(?:(?:of\\s)?(?:your|the|my)\\s)?${DIRECTIVE}\\b`),
    note: "ignore all (your) instructions",
  },
  {
    signal: "ignore-previous-instructions",
    weight: 0.6,
    pattern: rx(`\\b${IGNORE_VERB}\\s(?:everything|all)\\s(?:above|before|previously|prior|said\\sbefore)\\b`),
    note: "forget everything above",
  },
  {
    signal: "ignore-previous-instructions",
    weight: 0.55,
    pattern: rx(`\\b(?:new|updated|real|actual)\\s(?:system\\s)?instructions?\\s?:`),
    note: "new instructions:",
  },
  {
    signal: "ignore-previous-instructions",
    weight: 0.85,
    pattern: rx(
      `${ZH_IGNORE}掉?\\s?(?:你的?)?\\s?(?:${ZH_PRIOR}的?\\s?${ZH_ALL}?|${ZH_ALL}的?\\s?${ZH_PRIOR}?)的?\\s?${ZH_DIRECTIVE}`,
    ),
    note: "忽略之前的指令 / 无视以上所有规则",
  },
  // reveal-system-prompt
  {
    signal: "reveal-system-prompt",
    weight: 0.75,
    pattern: rx(
      `\\b${REVEAL_VERB}\\s(?:me\\s|us\\s)?(?:your|the|its|our)\\s(?:(?:full|entire|complete|exact|whole|original|hidden|secret|initial|verbatim|current)\\s){0,2}${SECRET_PROMPT}`,
    ),
    note: "print/reveal/show your system prompt",
  },
  {
    signal: "reveal-system-prompt",
    weight: 0.6,
    pattern: rx(
      `\\bwhat\\s(?:is|are|was|were)\\syour\\s(?:(?:full|exact|original|hidden|initial)\\s)?${SECRET_PROMPT}`,
    ),
    note: "what is your system prompt",
  },
  {
    signal: "reveal-system-prompt",
    weight: 0.65,
    pattern: rx(
      `\\b(?:repeat|print|output|copy|recite)\\s(?:(?:back|out)\\s)?(?:everything|all|the\\s(?:text|words|content|lines))\\s(?:(?:written|that\\sappears?|you\\ssaw)\\s)?(?:above|before\\sthis|prior\\sto\\sthis)`,
    ),
    note: "repeat the words above",
  },
  {
    signal: "reveal-system-prompt",
    weight: 0.75,
    pattern: rx(
      `${ZH_REVEAL}\\s?(?:一下)?\\s?(?:你的|您的|你|您)?\\s?(?:完整的?|全部的?|原始的?|初始的?|隐藏的?|隱藏的?)?\\s?${ZH_SECRET}`,
    ),
    note: "显示你的系统提示",
  },
  {
    signal: "reveal-system-prompt",
    weight: 0.6,
    pattern: rx(`(?:你的|您的)\\s?${ZH_SECRET}\\s?(?:是什么|是什麼|是啥|内容是|內容是)`),
    note: "你的系统提示是什么",
  },
  // role-override
  {
    signal: "role-override",
    weight: 0.8,
    pattern: rx(
      `\\b(?:you\\sare|you're|youre)\\snow\\s(?:(?:a|an|the|in|my)\\s)?(?:dan|stan|dude|aim|jailbroken|unrestricted|unfiltered|uncensored|unchained|free\\sfrom|no\\slonger\\sbound|developer\\smode|god\\smode|evil)\\b`,
    ),
    note: "you are now DAN / unrestricted",
  },
  {
    signal: "role-override",
    weight: 0.8,
    pattern: rx(`\\bdo\\sanything\\snow\\b`),
    note: "DAN (do anything now)",
  },
  {
    signal: "role-override",
    weight: 0.7,
    pattern: rx(
      `\\b(?:act|acting|behave|respond|answer|pretend|roleplay|role-play)\\s(?:as|like|to\\sbe)\\s[^.!?\\n]{0,80}\\s(?:without|with\\sno|free\\sof|ignoring)\\s(?:any\\s)?(?:(?:ethical|moral|content|safety)\\s)?(?:restrictions?|limits?|limitations?|filters?|rules|guidelines|censorship|constraints|boundaries|morals|ethics)\\b`,
    ),
    note: "act as ... without restrictions",
  },
  {
    signal: "role-override",
    weight: 0.7,
    pattern: rx(
      `\\b(?:enable|enter|activate|switch\\sto|turn\\son|you\\sare\\sin|you're\\sin|now\\sin)\\s(?:the\\s)?(?:developer|dev|god|jailbreak|unrestricted|debug\\sadmin)\\smode\\b|\\bdeveloper\\smode\\s(?:enabled|activated|output)\\b`,
    ),
    note: "developer mode",
  },
  {
    signal: "role-override",
    weight: 0.55,
    pattern: rx(
      `\\b(?:you\\s(?:have|has)\\sno|you\\sare\\snot\\sbound\\sby|you\\sare\\sno\\slonger\\sbound\\sby|free\\syourself\\sfrom)\\s(?:any\\s)?(?:(?:ethical|moral|content|safety)\\s)?(?:restrictions|rules|guidelines|filters|limitations|policies)\\b`,
    ),
    note: "you have no restrictions",
  },
  {
    signal: "role-override",
    weight: 0.45,
    pattern: rx(`\\bjailbr(?:eak|oken)\\b`),
    note: "jailbreak",
  },
  {
    signal: "role-override",
    weight: 0.75,
    pattern: rx(
      `(?:你现在是|你現在是|从现在开始你是|從現在開始你是|从现在起你是|從現在起你是|你将扮演|你將扮演|扮演)\\s?(?:一个|一個)?\\s?(?:dan|没有任何限制|沒有任何限制|没有限制|沒有限制|不受任何限制|不受限制|无限制|無限制|无约束|無約束|越狱)`,
    ),
    note: "你现在是DAN / 不受限制",
  },
  {
    signal: "role-override",
    weight: 0.7,
    pattern: rx(
      `(?:进入|進入|启用|啟用|开启|開啟|激活|切换到|切換到)\\s?(?:开发者|開發者|越狱|越獄|上帝)模式|(?:开发者|開發者)模式已(?:启用|啟用|开启|開啟)`,
    ),
    note: "进入开发者模式",
  },
  {
    signal: "role-override",
    weight: 0.45,
    pattern: rx(`越狱|越獄`),
    note: "越狱",
  },
  // delimiter-injection
  {
    signal: "delimiter-injection",
    weight: 0.85,
    pattern: rx(
      `<\\|(?:im_start|im_end|im_sep|system|endoftext|start_header_id|end_header_id|eot_id|begin_of_text|assistant|user)\\|>`,
    ),
    note: "chat-template special tokens",
  },
  {
    signal: "delimiter-injection",
    weight: 0.75,
    pattern: rx(`\\[/?inst\\]|<<\\/?sys>>|<\\/?(?:system|sys_prompt|system_prompt)>`),
    note: "[INST], <<SYS>>, <system>",
  },
  {
    signal: "delimiter-injection",
    weight: 0.7,
    pattern: rx(
      `(?:^|\\n)\\s?#{2,6}\\s?(?:system|new\\ssystem\\sprompt|admin|developer)\\s?(?:prompt|message|instructions?)?\\s?:`,
    ),
    note: "### System:",
  },
  {
    signal: "delimiter-injection",
    weight: 0.75,
    pattern: rx(
      `\\b(?:begin|start|end)\\s(?:of\\s)?(?:the\\s)?(?:new\\s)?system\\s(?:prompt|message|instructions?)\\b`,
    ),
    note: "BEGIN SYSTEM PROMPT",
  },
  {
    signal: "delimiter-injection",
    weight: 0.6,
    pattern: rx(`(?:^|\\n)\\s?(?:system|\\[system\\]|system\\smessage)\\s?:\\s?(?:you|ignore|from\\snow|new)`),
    note: "a line that impersonates the system role",
  },
];

/** Signal weights not carried by a pattern rule (computed signals). */
export const computedSignalWeights = {
  /** A base64 or hex blob whose decoded text itself fires another signal. */
  encodedPayload: 0.85,
  /** Markdown image/link whose URL holds a template placeholder (`{...}`, `[DATA]`, `$x`). */
  exfiltrationTemplate: 0.8,
  /** Markdown image to an external URL whose query names data-like parameters. */
  exfiltrationQuery: 0.5,
  /** A bare URL holding a data placeholder (not rendered by itself, so weaker). */
  exfiltrationBareTemplate: 0.55,
  /** Text that tells the model to put conversation data into a URL. */
  exfiltrationInstruction: 0.7,
  /** Any Unicode tag characters (ASCII smuggling). */
  tagCharacters: 0.9,
  /** Bidi embedding/override controls. */
  bidiControls: 0.5,
  /** Three or more zero-width characters (not counting joiners). */
  zeroWidth: 0.45,
  /** Added when zero-width characters sit inside a span another signal matched. */
  zeroWidthInMatch: 0.7,
} as const;

import { answerLine, goldenLine, type ReportCase, type RunReport } from './run-report.js';

/** Renders a run report as Markdown (for people) and JUnit XML (for CI systems). */

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
/** A Markdown table cell: pipes escaped, line breaks as <br>, long values cut. */
function cell(text: string, max = 400): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return cut.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function caseMarkdown(c: ReportCase): string[] {
  const lines = [`### \`${c.caseId}\`: ${c.status.replace('_', ' ')}`, ''];
  if (c.description) lines.push(c.description, '');
  if (c.unstableKinds.length > 0) {
    lines.push(
      `Also fails on the stable version (${c.unstableKinds.join(', ')}): not counted against the candidate.`,
      '',
    );
  }
  lines.push(
    `| | expected | got (candidate) |${c.stable ? ' stable |' : ''}`,
    `|---|---|---|${c.stable ? '---|' : ''}`,
  );
  const stableCell = (s: string) => (c.stable ? ` ${cell(s)} |` : '');
  lines.push(
    `| answer | ${cell(goldenLine(c.expected.golden))} | ${cell(answerLine(c.got.answer))} |${stableCell(answerLine(c.stable?.answer ?? null))}`,
  );
  lines.push(
    `| checks | ${cell(c.expected.assertions.join('\n'))} | ${cell(c.got.problems.join('\n') || '-')} |${stableCell(c.stable?.problems.join('\n') || '-')}`,
  );
  lines.push(
    `| attempts | | ${c.got.attempts.join(', ') || '-'} |${stableCell(c.stable?.attempts.join(', ') || '-')}`,
    '',
  );
  return lines;
}

export function reportMarkdown(r: RunReport): string {
  const s = r.summary;
  const lines = [
    `# BETS run ${r.run.id}: ${s.outcome.toUpperCase()}`,
    '',
    `Tenant **${r.run.tenantId}**, suite **${r.run.workflow}** (version ${r.run.suiteVersion}), channel ${r.run.channel}: candidate **${r.run.candidateVersionId}** against stable ${r.run.stableVersionId}${r.run.upgradeId ? `, upgrade ${r.run.upgradeId}` : ''}.`,
    `Each case ran ${r.options.k} time(s), pass rule ${r.options.passRule}; judge: ${r.run.judgeVersionId ?? 'none (word similarity)'}. Status: ${r.run.status}.`,
    '',
    '| assertion kind | passed | counted | pass rate | threshold | |',
    '|---|---|---|---|---|---|',
    ...s.kinds.map(
      (k) =>
        `| ${k.kind} | ${k.passed} | ${k.total} | ${pct(k.rate)} | ${pct(k.threshold)} | ${k.ok ? 'ok' : '**below**'} |`,
    ),
    '',
    `Cases: ${s.cases.total} in all, ${s.cases.passed} passed, ${s.cases.failed} failed, ${s.cases.errors} errors, ${s.cases.unstableBaseline} unstable baseline (reported separately, not counted).`,
    `Usage: ${s.usage.providerCalls} provider calls, ${s.usage.inputTokens} input and ${s.usage.outputTokens} output tokens${s.usage.cost === null ? '' : `, cost ${s.usage.cost.toFixed(4)}`}.`,
  ];
  if (s.stopped) lines.push('', `**The run stopped early:** ${s.stopped}`);
  for (const n of s.notes) lines.push('', `**Note:** ${n}`);
  const groups: [string, ReportCase['status'][]][] = [
    ['Failing cases', ['fail']],
    ['Errors', ['error', 'not_run']],
    ['Unstable baseline (fails on the stable version too)', ['unstable_baseline']],
  ];
  for (const [title, statuses] of groups) {
    const list = r.cases.filter((c) => statuses.includes(c.status));
    if (list.length === 0) continue;
    lines.push('', `## ${title} (${list.length})`, '');
    for (const c of list) lines.push(...caseMarkdown(c));
  }
  return `${lines.join('\n')}\n`;
}

const xml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .split('')
    // XML 1.0 forbids control characters other than tab, line feed and carriage return, even escaped.
    .filter((ch) => ch >= ' ' || ch === '\t' || ch === '\n' || ch === '\r')
    .join('');

function caseXml(c: ReportCase, classname: string): string {
  const body = [
    `expected: ${goldenLine(c.expected.golden)}`,
    ...c.expected.assertions.map((a) => `  ${a}`),
    `got: ${answerLine(c.got.answer)}`,
    ...c.got.problems.map((p) => `  ${p}`),
    ...(c.stable
      ? [`stable: ${answerLine(c.stable.answer)}`, ...c.stable.problems.map((p) => `  ${p}`)]
      : []),
  ].join('\n');
  const open = `    <testcase classname="${xml(classname)}" name="${xml(c.caseId)}">`;
  const first = xml(c.got.problems[0] ?? c.status);
  switch (c.status) {
    case 'fail':
      return `${open}\n      <failure message="${first}" type="bets.fail">${xml(body)}</failure>\n    </testcase>`;
    case 'error':
    case 'not_run':
      return `${open}\n      <error message="${first}" type="bets.${c.status}">${xml(body)}</error>\n    </testcase>`;
    default:
      return `${open}\n      <skipped message="unstable baseline: fails on the stable version too (${xml(c.unstableKinds.join(', '))})"/>\n      <system-out>${xml(body)}</system-out>\n    </testcase>`;
  }
}

/**
 * JUnit XML: one testsuite per run, a testcase per case; passed cases are listed (a CI shows the
 * count), failures and errors carry expected vs got, unstable baselines are skipped.
 */
export function reportJunit(r: RunReport): string {
  const s = r.summary;
  const classname = `bets.${r.run.tenantId}.${r.run.workflow}`;
  const reported = new Set(r.cases.map((c) => c.caseId));
  const failures = r.cases.filter((c) => c.status === 'fail').length;
  const errors = r.cases.filter((c) => c.status === 'error' || c.status === 'not_run').length;
  const skipped = r.cases.filter((c) => c.status === 'unstable_baseline').length;
  const passedIds = r.passedCaseIds;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="switchyard-bets" tests="${s.cases.total}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    `  <testsuite name="${xml(`${r.run.tenantId}/${r.run.workflow}@${r.run.candidateVersionId}`)}" tests="${s.cases.total}" failures="${failures}" errors="${errors}" skipped="${skipped}" timestamp="${xml(r.run.createdAt)}">`,
    '    <properties>',
    `      <property name="outcome" value="${s.outcome}"/>`,
    ...s.kinds.map(
      (k) =>
        `      <property name="passRate.${k.kind}" value="${k.rate === null ? '' : k.rate.toFixed(4)}"/>`,
    ),
    `      <property name="runId" value="${xml(r.run.id)}"/>`,
    '    </properties>',
    ...passedIds
      .filter((id) => !reported.has(id))
      .map((id) => `    <testcase classname="${xml(classname)}" name="${xml(id)}"/>`),
    ...r.cases.map((c) => caseXml(c, classname)),
    '  </testsuite>',
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

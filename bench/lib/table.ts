/** The human-readable summary of a benchmark report (the JSON holds everything). */
export function formatTable(report: { results: Record<string, any>; config: Record<string, unknown> }): string {
  const rows: Array<[string, string, string]> = [];
  const r = report.results;
  if (r.throughput) {
    const t = r.throughput;
    rows.push([
      'a. throughput',
      `${t.n} oVirt backups: ${t.oursPerSecondMedian}/s vs limit ${t.limitPerSecondMedian}/s (${t.activitiesPerBackup} no-op activities)`,
      `ratio ${t.ratioMedian} (goal ≥ 0.8)`,
    ]);
    rows.push([
      'b. overhead/step',
      `under load median ${t.overhead.underLoad.medianMsPerStep} ms, p95 ${t.overhead.underLoad.p95MsPerStep} ms`,
      `unloaded median ${t.overhead.unloaded.medianMsPerStep} ms, p95 ${t.overhead.unloaded.p95MsPerStep} ms`,
    ]);
  }
  if (r.historyEvents) {
    for (const w of r.historyEvents.perWorkflow) rows.push([`c. events/backup`, w.workflowType, `${w.events ?? '-'} (${w.status}${w.note ? `: ${w.note}` : ''})`]);
    const l = r.historyEvents.longJob;
    rows.push(['c. events/hour of job', `${l.workflowType}: ${l.eventsShort} → ${l.eventsLong} events for a ${l.longJobSeconds} s snapshot`, `${l.eventsPerHourOfJob} per hour`]);
    for (const j of r.historyEvents.longJobs ?? []) {
      rows.push([
        'c. events, long job',
        `${j.workflowType}: ${j.job}`,
        `${j.eventsOneMinute} (1 min) → ${j.eventsLong} (${j.longHours} h)${j.status === 'completed' ? '' : ` ${j.status}`} (goal < 300)`,
      ]);
    }
  }
  if (r.copy) {
    const c = r.copy;
    rows.push([
      'd. copy',
      `${c.mib} MiB: activity ${c.activityMiBps} MiB/s, cat ${c.catMiBps} MiB/s, cat+fsync ${c.miBps?.catSync} MiB/s`,
      `vs cat+fsync ${c.ratioVsCatSyncMedian} (main-thread hash ${c.mainThreadVsCatSyncMedian}, plain loop ${c.loopVsCatSyncMedian}; ${c.ratioVsCatSyncMin}–${c.ratioVsCatSyncMax}, ${c.undisturbedRuns} of ${c.runs.length} runs undisturbed; goal ≥ 0.8); vs cat ${c.ratioVsCatMedian}`,
    ]);
    if (c.cpuSecondsPerGiB) {
      const s = c.cpuSecondsPerGiB;
      rows.push([
        'd. copy CPU s/GiB',
        `activity ${s.activity} (through the page cache ${s.activityBuffered}, hash on the main thread ${s.activityMainThread}), plain loop ${s.loop}, SHA-256 ${s.sha256}, cat ${s.cat}, cat+fsync ${s.catSync}`,
        `activity / SHA-256 ${c.cpuVsSha256Median} (goal ≤ 1.3; through the page cache ${c.bufferedCpuVsSha256Median})`,
      ]);
    }
    if (c.agreement) {
      const pct = (f: number) => `±${Math.round(f * 100)} %`;
      rows.push([
        'd. copy: runs agree',
        `${c.undisturbedRuns} undisturbed runs, ${c.samplesPerRun} sample(s) of activity and cat+fsync each per run${c.disturbedSamples ? ` (${c.disturbedSamples} disturbed, left out)` : ''}; copy buffers on ${c.hugePages?.onHugePages ? 'huge' : '4 KiB'} pages, write requests ${c.activityRequestKiBMedian} KiB (median)`,
        `activity s/GiB within ${pct(c.agreement.activity)}, vs cat+fsync within ${pct(c.agreement.ratioVsCatSync)}, CPU within ${pct(c.agreement.activityCpu)} (goal ±15 %); cat+fsync itself within ${c.agreement.catSync === undefined ? '?' : pct(c.agreement.catSync)}`,
      ]);
    }
  }
  if (r.polling) {
    const p = r.polling;
    for (const x of p.pollers) rows.push(['e. polling', `${x.name}, every ${x.pollMs} ms, ${p.jobSeconds} s job`, `${x.callsPerJob} calls, ${x.lateSeconds} s late`]);
    rows.push(['e. polling', 'ours / fixed 10 s', `calls ×${p.callsRatio}, lateness ×${p.latenessRatio}`]);
  }
  if (r.rss) {
    const f = r.rss;
    rows.push(['f. worker RSS', `${f.runsInFlight} runs in flight (cache ${f.maxCachedWorkflows})`, `peak ${f.peakRssMiB} MiB, idle ${f.idleRssMiB} MiB, ~${f.perRunKiB} KiB/run`]);
  }
  if (r.restore) {
    const w = r.restore.write;
    const d = r.restore.drill;
    rows.push([
      'g. restore write',
      `${w.mib} MiB: restore write ${w.writeMiBps} MiB/s, backup copy ${w.copyMiBps} MiB/s (first in a run ${w.byPosition.first.write} / ${w.byPosition.first.copy}, second ${w.byPosition.second.write} / ${w.byPosition.second.copy})`,
      `ratio ${w.ratioMedian} (goal ≥ 0.8; ${w.pairs.length ? `pairs of runs in both orders: ${w.pairs.join(', ')}` : `${w.runs.length} run`})`,
    ]);
    rows.push([
      'g. drill time',
      `demo VM (${d.diskMiB.os} + ${d.diskMiB.data} MiB): backup ${d.backupMsMedian} ms, drill ${d.drillMsMedian} ms`,
      `drill/backup ×${d.ratioMedian} (median of ${d.runs.length})`,
    ]);
  }
  if (r.restic?.skipped) rows.push(['h. restic', 'skipped', r.restic.skipped]);
  else if (r.restic) {
    const h = r.restic;
    const g = h.growth;
    rows.push([
      'h. restic throughput',
      `${h.mib} MiB (restic ${h.restic}, compression ${h.compression}): restic ${h.resticMiBps} MiB/s, directory ${h.directoryMiBps} MiB/s`,
      `ratio ${h.ratioMedian} (goal ≥ ${h.ratioGoal}${h.ratioMet ? '' : ', MISSED'}; median of ${h.runs.length}, order rotating)`,
    ]);
    rows.push([
      'h. ours vs restic alone',
      `restic backup --stdin < the disk file, alone, in the same runs: ${h.runs.map((x: { aloneMs: number }) => x.aloneMs).join(', ')} ms; ours ${h.runs.map((x: { resticMs: number }) => x.resticMs).join(', ')} ms`,
      `alone / ours ${h.oursVsAloneMedian} (1 = our stream adds nothing to restic's time; the ratio above is bounded by restic's own speed)`,
    ]);
    rows.push([
      'h. restic growth',
      `unchanged: +${g.unchangedAddedBytes} B = ${(g.unchangedAddedPerDisk * 100).toFixed(3)} % of the disk (goal ≤ 1 %${g.unchangedGoalMet ? '' : ', MISSED'})`,
      `${g.changedBytes / 1048576} MiB rewritten (10 × ${g.regionBytes / 1048576} MiB): +${g.changedAddedBytes} B = ${g.changedAddedPerChanged} × changed (goal ≤ 1.5 × + 1 % of the disk${g.changedGoalMet ? '' : ', MISSED'})`,
    ]);
  }
  if (r.incremental) {
    const i = r.incremental;
    rows.push([
      'i. incremental read',
      `chain of ${i.points} of a ${i.diskMiB} MiB disk, ${i.rewritePercent} % rewritten before each: imageio bytes / rewritten bytes`,
      `max ×${i.readRatioMax}, median ×${i.readRatioMedian} (goal ≤ 1.05)`,
    ]);
    rows.push([
      'i. incremental time',
      `an incremental's time / the fulls' median (${i.fulls.length} fulls)`,
      `×${i.timeRatioMedian} median; ×${i.timeRatioWithoutFreezeMedian} without the simulator's freeze copy`,
    ]);
    rows.push([
      'i. chain restores',
      `points composed from the chain vs the disk's SHA-256 at each backup`,
      `${i.restores.filter((x: { matches: boolean }) => x.matches).length} of ${i.restores.length} byte for byte`,
    ]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length), 4));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join(' │ ')).join('\n');
}

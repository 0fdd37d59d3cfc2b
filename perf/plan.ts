// What one perf run measures, and how much: bounded counts and durations for the full run
// (20–30 minutes on 2 cores) and for --quick (tiny counts, every step, about 3 minutes).
import { networkPlan, type NetworkPlan } from './network-delay.js'
import { restartPlan, type RestartPlan } from './restart.js'
import { scalingPlan, type ScalingPlan } from './scaling.js'

export interface Plan {
  quick: boolean
  /** Record sizes of the producer and consumer workloads. */
  sizes: number[]
  /** Records per producer / consumer run, by record size. */
  records: Record<number, number>
  /** A producer or consumer run stops after this many seconds (reported as timed out). */
  maxSeconds: number
  /** End-to-end runs: fractions of the system's own measured peak, seconds each, record size. */
  e2eFractions: number[]
  e2eSeconds: number
  /** Seconds at the rate before an end-to-end run measures (runE2eSend's warm-up). */
  e2eWarmupSeconds: number
  e2eRecordSize: number
  /** Seconds per machine-limit measurement. */
  limitSeconds: number
  microArgs: string[]
  /** How cost grows (perf/scaling.ts). */
  scaling: ScalingPlan
  /** 3 brokers with a delay between them (perf/network-delay.ts). */
  network: NetworkPlan
  /** SIGKILLs of an RF=3 partition's leader under acks=all writes (perf/cluster-timings.ts). */
  failovers: number
  /** Idle RF=3 partitions on 3 brokers, windows of seconds each after settling (perf/idle-cluster.ts). */
  idle: { partitions: number; windows: number; windowSeconds: number; settleSeconds: number }
  /** One broker restarted with this much in its log (perf/restart.ts). */
  restart: RestartPlan
}

export function planFor(quick: boolean): Plan {
  return quick
    ? {
        quick, sizes: [100, 1024], records: { 100: 20_000, 1024: 5_000 }, maxSeconds: 20,
        // One fraction (the target's): each is two fresh processes per system, and --quick must stay under 3 minutes.
        e2eFractions: [0.25], e2eSeconds: 1, e2eWarmupSeconds: 0.25, e2eRecordSize: 100, limitSeconds: 0.3, microArgs: ['--quick'], scaling: scalingPlan(true), network: networkPlan(true),
        failovers: 1, idle: { partitions: 30, windows: 1, windowSeconds: 2, settleSeconds: 2 },
        restart: restartPlan(true),
      }
    : {
        // Several seconds per Bitácora run, so its figures are steady state (at 1 M records a
        // consumer run was 0.6 s and a fifth of it start-up); slower peers stop at maxSeconds.
        quick, sizes: [100, 1024], records: { 100: 3_000_000, 1024: 600_000 }, maxSeconds: 60,
        e2eFractions: [0.1, 0.25, 0.5, 0.75], e2eSeconds: 8, e2eWarmupSeconds: 1, e2eRecordSize: 100, limitSeconds: 3, microArgs: [], scaling: scalingPlan(false), network: networkPlan(false),
        failovers: 20, idle: { partitions: 1000, windows: 3, windowSeconds: 20, settleSeconds: 10 },
        restart: restartPlan(false),
      }
}

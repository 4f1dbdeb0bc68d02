/** 4. Pipeline: the local stack under a sustained rate, then stepped rates (placeholder until local/ lands). */
import { BenchConfig } from "../lib/config";

export interface PipelineStep {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  spansExpected: number;
  spansReceived: number;
  spanRatio: number;
  tracesComplete: number;
  traceRatio: number;
}

export interface PipelineResult {
  sustained: PipelineStep;
  steps: PipelineStep[];
  maxRateAt100: number | null;
}

export async function benchPipeline(_cfg: BenchConfig["pipeline"], _log: (s: string) => void): Promise<PipelineResult> {
  throw new Error("local/ startLocalStack is not available yet");
}

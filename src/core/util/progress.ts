/** How a long core operation reports progress: a fraction in 0..1 and what it is doing now (the UI and the CLI draw it). */
export type Progress = (fraction: number, message: string) => void;

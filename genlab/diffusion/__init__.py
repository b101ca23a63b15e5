"""Diffusion in three parts: schedules (pure functions), schedulers (no weights), and the
sampling loop in genlab.families.ddpm; the denoiser (genlab.models.unet) knows no betas."""

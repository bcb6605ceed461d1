/** Parameters of POST /api/v1/validations (multipart fields or query string). */
import { z } from 'zod';

export const validationParamsSchema = z
  .object({
    format: z.enum(['json', 'html']).optional().describe('report format; default from the Accept header (JSON unless text/html is preferred)'),
  })
  .strict();

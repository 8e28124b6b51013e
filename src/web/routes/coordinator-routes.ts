/** Every route of the coordinator's side (issue #9), mounted once under /lti; each is staff only. */
import { Router } from 'express';
import { staffReportRoutes, type StaffReportDeps } from './staff-report-routes';
import { staffExportRoutes } from './staff-export-routes';
import { staffActionsRoutes } from './staff-actions-routes';

export function coordinatorRoutes(deps: StaffReportDeps): Router {
  const router = Router();
  router.use(staffReportRoutes(deps));
  router.use(staffExportRoutes(deps));
  router.use(staffActionsRoutes(deps));
  return router;
}
